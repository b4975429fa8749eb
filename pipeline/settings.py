"""`practice.toml`: which sources to read and how every stage is tuned, with defaults for all of it.

Looked up as `--config PATH`, else `$PRACTICE_CONFIG`, else `./practice.toml`; with none, the
built-in defaults apply (no sources: `practice run PATH...` names them).

    [[sources]]
    path = "examples/slack"
    community = "platform-engineering"
    visibility = "public"          # or a group name: only its members see what comes from it
                                   # (left out: the source keeps its visibility; a new one is public)
    # kind = "thread"              # force a kind (transcript | thread | document)

    [extract]
    extractors = ["threads", "transcripts", "documents"]
    # llm_model = "openai:gpt-4o-mini"

    [dedupe]                        # duplicate-score thresholds (calibrated: see README)
    faq_merge = 0.8935

    [publish]
    include_candidates = false
    index = "auto"                  # auto (exact, HNSW from 20k artefacts) | exact | hnsw | ivf
    keep = 5

    [search]                        # how dense and BM25 results are fused (see index/search.py)
    fusion = "rrf"                  # rrf | convex
    # rrf_k = 1                     # RRF: score = sum of w / (rrf_k + rank)
    # weights = { dense = 1.0, bm25 = 0.5 }   # per method; a weight left out keeps the fusion's default
    # floor = 0.58                  # relevance floor / strong match on a hit's dense cosine; left out:
    # strong = 0.64                 # the model's calibrated values (index/relevance.py, `practice eval floor`)

    [schedule]
    cron = "0 * * * *"

    [run]                           # where extraction and embedding run (see README "Several machines")
    task_runner = "sequential"      # sequential | dask
    # dask_address = "tcp://scheduler:8786"   # an existing Dask cluster; left out: a local one
    dask_workers = 2                # worker processes of the local cluster
    extract_batch = 20              # sources per extraction task
    embed_batch = 512               # texts per embedding task

    [slack]                         # `practice pull slack` (see README "Live Slack")
    token_env = "SLACK_BOT_TOKEN"   # the env var holding the bot token; the token is never stored
    channels = ["general"]          # names, #names or ids
    folder = "slack-live"           # the export folder the pull writes; name it in a [[sources]] entry
    active_days = 7                 # threads with a reply newer than this are re-fetched on every pull
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from index.duplicates import CALIBRATED_THRESHOLDS
from index.search import DEFAULT_FUSION, DEFAULT_RRF_K, Fusion


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo in practice.toml is an error, not silence


class SourceEntry(_Section):
    """One configured source: a file or folder with its community and visibility."""

    path: str
    community: str | None = None
    visibility: str | None = None  # None: keep what the source has (a new source is public)
    kind: str | None = None


class EmbeddingSettings(_Section):
    model: str = "all-MiniLM-L6-v2"
    # "auto" (the default): the fastest backend that passed the quality guard when the export was
    # built at install (index/embed_export.py; torch-bf16 on CPUs with fast bf16, else torch);
    # "torch" (fp32 sentence-transformers), "torch-bf16" (matrix products in bf16), "onnx-int8"
    # (fails the guard: on the Stack Exchange duplicates dev set int8 loses 0.036 NDCG@10).
    backend: Literal["auto", "torch", "torch-bf16", "onnx-int8"] = "auto"


class ExtractSettings(_Section):
    extractors: list[str] = Field(default_factory=lambda: ["threads", "transcripts", "documents"])
    llm_model: str | None = None


class DedupeSettings(_Section):
    faq_merge: float = CALIBRATED_THRESHOLDS["faq"][0]
    faq_suggest: float = CALIBRATED_THRESHOLDS["faq"][1]
    pattern_merge: float = CALIBRATED_THRESHOLDS["pattern"][0]
    pattern_suggest: float = CALIBRATED_THRESHOLDS["pattern"][1]
    # FAQs whose questions are close and whose answers agree merge too (index/answer_agreement.py:
    # precision 0.93 on SemEval part 1, 0.83 held out on part 2). Off: questions alone decide.
    answer_agreement: bool = True


class PublishSettings(_Section):
    include_candidates: bool = False
    index: str = "auto"  # index.index_choice: exact while fast enough, HNSW (recall-checked) above
    keep: int = 5


class SearchSettings(_Section):
    """Fusion of the dense and BM25 rankings; the defaults are index.search's (chosen as documented there)."""

    fusion: Fusion = DEFAULT_FUSION
    rrf_k: int = Field(default=DEFAULT_RRF_K, ge=0)
    # None: the chosen fusion's default weights; a dict may name one method only
    weights: dict[Literal["dense", "bm25"], Annotated[float, Field(ge=0)]] | None = None
    depth: int | None = Field(default=None, ge=1)  # per method; None: max(50, 5k)
    # Relevance floor and strong-match threshold on a hit's dense cosine (index.relevance); None:
    # the values calibrated for the release's model by `practice eval floor` (none if uncalibrated).
    floor: float | None = Field(default=None, ge=-1, le=1)
    strong: float | None = Field(default=None, ge=-1, le=1)

    @model_validator(mode="after")
    def _both_thresholds(self) -> "SearchSettings":
        if (self.floor is None) != (self.strong is None):
            raise ValueError("[search] floor and strong go together (set both, or neither for the calibrated values)")
        if self.floor is not None and self.strong is not None and self.floor > self.strong:
            raise ValueError(f"[search] floor ({self.floor}) must not be above strong ({self.strong})")
        return self

    def searcher_options(self) -> dict[str, Any]:
        """Keyword arguments for `index.search.Searcher` / `Searcher.open`."""
        from index.relevance import Relevance

        relevance: Any = "model"
        if self.floor is not None and self.strong is not None:
            relevance = Relevance(self.floor, self.strong, source="practice.toml [search]")
        return {"fusion": self.fusion, "rrf_k": self.rrf_k, "weights": dict(self.weights or {}), "depth": self.depth,
                "relevance": relevance}  # fmt: skip


class ScheduleSettings(_Section):
    cron: str = "0 * * * *"  # hourly
    timezone: str = "UTC"


class RunSettings(_Section):
    """Where the heavy stages run: in this process, or as Prefect tasks on a Dask cluster."""

    task_runner: Literal["sequential", "dask"] = "sequential"
    dask_address: str | None = None  # an existing cluster's scheduler; None: a LocalCluster
    dask_workers: int = Field(default=2, ge=1)  # worker processes of that LocalCluster
    # A Prefect task costs tens of ms and grows the flow's memory: give each seconds of work.
    extract_batch: int = Field(default=20, ge=1)
    embed_batch: int = Field(default=512, ge=1)


class SlackSettings(_Section):
    """The live Slack pull: which channels, into which export folder, with which token variable."""

    token_env: str = "SLACK_BOT_TOKEN"
    channels: list[str] = Field(default_factory=list)
    folder: str = "slack-live"  # relative to the config file's folder
    active_days: float = Field(default=7, ge=0)
    base_url: str | None = None  # another Web API root (Slack's own by default); tests use a local stub


class Settings(_Section):
    """Everything `practice.toml` can say."""

    sources: list[SourceEntry] = Field(default_factory=list)
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    extract: ExtractSettings = Field(default_factory=ExtractSettings)
    dedupe: DedupeSettings = Field(default_factory=DedupeSettings)
    publish: PublishSettings = Field(default_factory=PublishSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    run: RunSettings = Field(default_factory=RunSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    base_dir: str = "."  # where relative source paths are resolved from (the file's folder)


def config_path(explicit: Path | None = None) -> Path | None:
    """Which config file applies, if any."""
    if explicit is not None:
        return explicit
    env = os.environ.get("PRACTICE_CONFIG")
    if env:
        return Path(env)
    local = Path("practice.toml")
    return local if local.is_file() else None


def load_settings(path: Path | None = None) -> Settings:
    """Read practice.toml (or the defaults); raises ValueError naming the file on a bad config."""
    found = config_path(path)
    if found is None:
        return Settings()
    try:
        data = tomllib.loads(found.read_text(encoding="utf-8"))
        settings = Settings.model_validate({**data, "base_dir": str(found.resolve().parent)})
    except FileNotFoundError:
        raise ValueError(f"{found}: config file not found") from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ValueError(f"{found}: invalid config: {exc}") from None
    return settings


def source_paths(settings: Settings) -> list[tuple[Path, SourceEntry]]:
    """Configured sources with paths resolved against the config file's folder."""
    base = Path(settings.base_dir)
    return [(Path(s.path) if Path(s.path).is_absolute() else base / s.path, s) for s in settings.sources]


def run_entries(
    settings: Settings,
    paths: list[str] | None = None,
    community: str | None = None,
    visibility: str | None = None,
) -> list[tuple[str, str | None, str | None, str | None]]:
    """What `practice run` ingests: (path, community, visibility, kind) for each entry.

    Without paths: the configured sources. A path inside a configured source takes that source's
    settings (the deepest match), unless the command line names them; any other path takes the
    command line's. None keeps what each stored source already has: a run never widens a
    restricted source on its own (widening is an admin's audited `practice review widen`).
    """
    configured = sorted(source_paths(settings), key=lambda pe: -len(pe[0].resolve().parts))
    if not paths:
        return [(str(p), e.community, e.visibility, e.kind) for p, e in source_paths(settings)]
    entries = []
    for raw in paths:
        where = Path(raw).resolve()
        entry = next((e for p, e in configured if where == p.resolve() or p.resolve() in where.parents), None)
        if entry is None:
            entries.append((raw, community, visibility, None))
        else:
            entries.append((
                raw, community if community is not None else entry.community,
                visibility if visibility is not None else entry.visibility, entry.kind,
            ))  # fmt: skip
    return entries
