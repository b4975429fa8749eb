"""Build the faster backends of the bundled model, once, and choose the default by a quality guard.

Run as its own step (`python -m index.embed_export`, also done by `make install` and, when missing,
by the first process that asks for the "auto" backend, in a subprocess): it imports torch, which the
onnx backend itself never does. Nothing is downloaded: the model is exported from the bundled weights.

Steps: export the transformer to ONNX fp32 (token states out; pooling stays in numpy), quantise its
weights dynamically to int8 with onnxruntime.quantization, then embed a fixed sample of real corpus
texts with fp32 torch and with each candidate (torch-bf16, which needs no file, and each quantised
export), and run the search dev sets with each. A backend passes the guard when its mean cosine to
the fp32 vectors is ≥ 1 - GUARD_TOLERANCE, its minimum ≥ MIN_COSINE, and its NDCG@10 (dense only and
default hybrid) on every dev set is at least RETRIEVAL_SHARE of torch's (issue 12: ≥ 99.5 % of fp32); the default is the fastest backend that passes and beats torch, else torch, with the
reason recorded in the manifest and logged.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
#: Mean cosine to fp32 torch must be within this of 1 (issue 12's "within 0.01").
GUARD_TOLERANCE = 0.01
#: Floor for the worst single text. Dynamic int8 of MiniLM-L6 reaches 0.965-0.976 on the guard sample
#: whatever the variant tried (per-channel, reduce-range, FFN outputs kept fp32), so "within 0.01" for
#: the minimum would always fall back to torch; the retrieval figures decide instead (see README).
MIN_COSINE = 0.95
#: Each dev-set NDCG@10 must keep this share of fp32 torch's.
RETRIEVAL_SHARE = 0.995
GUARD_TEXTS = 300  # per kind: short questions, chat messages, ~128-token posts
EXPORT_VERSION = "3"  # bump when the export or the guard changes: old caches are rebuilt


def model_cache_root() -> Path:
    """Where exports live: $PRACTICE_MODEL_CACHE, else beside the venv's packages (built at install)."""
    override = os.environ.get("PRACTICE_MODEL_CACHE")
    return Path(override) if override else Path(sys.prefix) / "share" / "practice-index" / "models"


def export_dir(model_dir: Path, root: Path | None = None) -> Path:
    """The folder of one model's exports (named after the model folder and its weights' size+mtime)."""
    weights = model_dir / "model.safetensors"
    stamp = f"{weights.stat().st_size}-{int(weights.stat().st_mtime)}" if weights.exists() else "0"
    return (root or model_cache_root()) / f"{model_dir.name}-{stamp}-v{EXPORT_VERSION}"


def corpus_root() -> Path:
    """The shared real corpus: $PRACTICE_CORPUS, else ../shared/corpus beside the project."""
    override = os.environ.get("PRACTICE_CORPUS")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "corpus"


def guard_texts(corpus: Path, per_kind: int = GUARD_TEXTS) -> dict[str, list[str]]:
    """A fixed sample of real texts: Stack Exchange titles (short), Slack messages, post bodies (~128 tokens)."""
    import xml.etree.ElementTree as ET

    rows = [
        json.loads(line)
        for line in (corpus / "threads/stackexchange/quantumcomputing.stackexchange.com/derived/questions_with_answers.jsonl")
        .read_text().splitlines() if line.strip()
    ]  # fmt: skip
    slack = ET.parse(corpus / "chat/slack_disentangled/racket-general-2019.xml").getroot()
    messages = [t for t in ((m.findtext("text") or "").strip() for m in slack.iter("message")) if len(t) > 20]
    return {
        "short": [r["title"] for r in rows if r.get("title")][:per_kind],
        "chat": messages[:per_kind],
        "post": [r["question_text"][:700] for r in rows if r.get("question_text")][:per_kind],
    }


def export_onnx(model_dir: Path, out: Path) -> Path:
    """The transformer as ONNX fp32 with dynamic batch and length; returns the file."""
    import torch
    from transformers import AutoModel

    class TokenStates(torch.nn.Module):
        """Positional inputs, token states out (the tracing exporter wants a plain signature)."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(model_dir)).eval()

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones((2, 16), dtype=torch.int64) for _ in names)
    axes = {k: {0: "batch", 1: "sequence"} for k in (*names, "last_hidden_state")}
    path = out / "model.onnx"
    with torch.no_grad():
        torch.onnx.export(
            TokenStates().eval(), dummy, str(path), input_names=names, output_names=["last_hidden_state"],
            dynamic_axes=axes, opset_version=17, dynamo=False, do_constant_folding=True,
        )  # fmt: skip
    return path


def quantise_int8(fp32: Path) -> Path:
    """Dynamic int8 quantisation of the MatMul weights, per output channel (activations at run time).

    Per-channel keeps the mean cosine to fp32 at ≈ 0.993 on the guard sample; per-tensor fell to 0.957.
    The embedding lookup (Gather) stays fp32: it costs no arithmetic.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = fp32.with_name("model-int8.onnx")
    quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"])
    return path


def _timed(encode, texts: list[str]) -> tuple[np.ndarray, float]:  # type: ignore[no-untyped-def]
    encode(texts[:8])  # warm up outside the timing
    t0 = time.perf_counter()
    vectors = encode(texts)
    return vectors, len(texts) / (time.perf_counter() - t0)


def dev_sets(corpus: Path) -> list:  # list[RetrievalSet]
    """The retrieval dev sets search defaults are chosen on: Stack Exchange duplicates, SemEval subtask B."""
    from pipeline.eval_search_dev import load_semeval_questions, load_stackexchange_duplicates

    semeval = sorted((corpus / "threads" / "semeval2016").glob("SemEval2016-Task3-CQA-QL-train-part*.xml"))
    return [load_stackexchange_duplicates(corpus / "threads/stackexchange/quantumcomputing.stackexchange.com"),
            load_semeval_questions(semeval)]  # fmt: skip


def retrieval_figures(encode, sets: list) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """NDCG@10 of dense-only and of the default hybrid search on each dev set, as `practice eval search`."""
    from pipeline.eval_search import evaluate_retrieval

    out = {}
    for data in sets:
        report = evaluate_retrieval(data, embed=encode, model_id="guard")
        results = report["results"]
        out[report["set"]] = {"queries": report["queries"], "dense": results["dense"]["ndcg@10"],
                              "hybrid": results["hybrid"]["ndcg@10"]}  # fmt: skip
    return out


def _retrieval_ok(ours: dict, fp32: dict) -> bool:
    return all(ours[s][m] >= RETRIEVAL_SHARE * fp32[s][m] for s in fp32 for m in ("dense", "hybrid"))


def candidate_encoders(model_dir: Path, model_name: str, files: dict[str, Path]) -> dict:
    """The backends the guard weighs against fp32 torch: torch-bf16 (no file) and each exported file."""
    from index.embed_onnx import OnnxEmbedder
    from index.embeddings import Embedder

    return {"torch-bf16": lambda: Embedder(str(model_dir), bf16=True),
            **{b: (lambda b=b, p=p: OnnxEmbedder(p, model_dir, model_name, b)) for b, p in files.items()}}  # fmt: skip


def run_guard(model_dir: Path, model_name: str, files: dict[str, Path], corpus: Path) -> dict:
    """Per backend: cosine to fp32 torch (mean, min, per kind), dev-set retrieval, texts/s; and torch's own."""
    from index.embeddings import Embedder

    texts, sets = guard_texts(corpus), dev_sets(corpus)
    everything = [t for kind in texts.values() for t in kind]
    torch_encoder = Embedder(str(model_dir))
    torch_vectors, torch_rate = _timed(torch_encoder.encode, everything)
    fp32_retrieval = retrieval_figures(torch_encoder.encode, sets)
    report: dict = {"texts": {k: len(v) for k, v in texts.items()},
                    "torch": {"texts_per_s": round(torch_rate, 1), "retrieval": fp32_retrieval}}  # fmt: skip
    for backend, make in candidate_encoders(model_dir, model_name, files).items():
        encoder = make()
        vectors, rate = _timed(encoder.encode, everything)
        cos = (vectors * torch_vectors).sum(axis=1)
        entry = {"texts_per_s": round(rate, 1), "mean_cos": round(float(cos.mean()), 5), "min_cos": round(float(cos.min()), 5)}
        start = 0
        for kind, kind_texts in texts.items():
            entry[f"{kind}_mean_cos"] = round(float(cos[start : start + len(kind_texts)].mean()), 5)
            start += len(kind_texts)
        entry["retrieval"] = retrieval_figures(encoder.encode, sets)
        entry["cosine_ok"] = bool(cos.mean() >= 1 - GUARD_TOLERANCE and cos.min() >= MIN_COSINE)
        entry["retrieval_ok"] = _retrieval_ok(entry["retrieval"], fp32_retrieval)
        entry["passed"] = entry["cosine_ok"] and entry["retrieval_ok"]
        report[backend] = entry
    return report


def choose_default(report: dict) -> tuple[str, str]:
    """The fastest backend that passed the guard (torch when none did), with the reason."""
    passed = [(v["texts_per_s"], k) for k, v in report.items() if isinstance(v, dict) and v.get("passed")]
    if not passed:
        failed = {
            k: {"mean_cos": v["mean_cos"], "min_cos": v["min_cos"], "retrieval": v["retrieval"]}
            for k, v in report.items() if "passed" in v
        }  # fmt: skip
        return "torch", (f"no faster backend passed the guard (mean cosine ≥ {1 - GUARD_TOLERANCE}, min ≥ {MIN_COSINE}, "
                         f"dev-set NDCG@10 ≥ {RETRIEVAL_SHARE} of torch's {report['torch']['retrieval']}): {failed}")
    rate, best = max(passed)
    if rate <= report["torch"]["texts_per_s"]:
        return "torch", f"{best} passed but is not faster than torch ({rate} vs {report['torch']['texts_per_s']} texts/s)"
    return best, f"fastest backend passing the guard ({rate} vs torch {report['torch']['texts_per_s']} texts/s)"


def build(model_dir: Path, model_name: str, root: Path | None = None) -> dict:
    """Export, quantise, guard, and write the manifest (atomically: a half-built export is never read)."""
    out = export_dir(model_dir, root)
    tmp = out.with_name(out.name + f".building-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    fp32 = export_onnx(model_dir, tmp)
    files = {"onnx-int8": quantise_int8(fp32)}
    fp32.unlink()  # only the quantised model is served; fp32 was the export's intermediate
    manifest: dict = {"model": model_name, "model_dir": str(model_dir), "files": {k: v.name for k, v in files.items()}}
    corpus = corpus_root()
    if corpus.exists():
        manifest["guard"] = run_guard(model_dir, model_name, files, corpus)
        manifest["default"], manifest["reason"] = choose_default(manifest["guard"])
    else:
        manifest["default"], manifest["reason"] = "torch", f"no guard texts: the corpus is missing at {corpus}"
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
    if out.exists():  # another process finished first: keep theirs
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.rename(out)
    log.warning("embedding backend default: %s (%s)", manifest["default"], manifest["reason"])
    return json.loads((out / MANIFEST).read_text())


def main() -> None:
    """Build the exports of the configured (default: bundled) model and print the manifest."""
    import pipeline.config  # noqa: F401  (offline: no hub look-ups)
    from index.embeddings import DEFAULT_MODEL, resolve_model_path

    logging.basicConfig(level=logging.WARNING)
    name = os.environ.get("PRACTICE_EMBEDDING_MODEL", DEFAULT_MODEL)
    model_dir = Path(resolve_model_path(name))
    if (export_dir(model_dir) / MANIFEST).exists():
        if "--force" not in sys.argv:
            print((export_dir(model_dir) / MANIFEST).read_text())
            return
        import shutil

        shutil.rmtree(export_dir(model_dir))
    print(json.dumps(build(model_dir, name), indent=2))


if __name__ == "__main__":
    main()
