"""Embedding backends and the embedding service, each next to its baseline in one run.

1. Texts/s of plain `SentenceTransformer.encode` (fp32, defaults) against each backend through the
   product's encoder (`shared_embedder(backend=...)`: length-bucketed batches), on real corpus texts:
   Stack Exchange titles (short) and question bodies cut to ~128 tokens (600 characters). Each
   measurement runs in its own process, as in production (torch and ONNX Runtime in one process
   slow each other).
2. Extraction over a real chat channel (the first N messages of the Racket Slack, as JSONL):
   today's path (the thread extractor calling the torch model once per thread, nothing cached)
   against the product's (the configured backend, every thread's texts embedded in one batched call
   per source and cached in the store), cold, then a second run over the same messages (the
   channel re-exported under another name: a new source, the same texts) where the cache answers.

    .venv/bin/python bench/embed_backends.py [--texts 400] [--messages 1500] [--service-backend onnx-int8|torch|auto]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.embed_export import corpus_root  # noqa: E402  (no torch: safe in the parent process)


def texts_of(kind: str, n: int) -> list[str]:
    """Real texts: "short" = Stack Exchange titles, "post" = question bodies cut to ~128 tokens."""
    path = corpus_root() / "threads/stackexchange/quantumcomputing.stackexchange.com/derived/questions_with_answers.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if kind == "short":
        return [r["title"] for r in rows if r.get("title")][:n]
    return [r["question_text"][:600] for r in rows if len(r.get("question_text", "")) >= 600][:n]


def part_encode(backend: str, kind: str, n: int) -> dict:
    """Texts/s of one backend on one kind of text (run in a child process)."""
    texts = texts_of(kind, n)
    if backend == "plain":
        from sentence_transformers import SentenceTransformer

        from index.embeddings import resolve_model_path

        model = SentenceTransformer(resolve_model_path("all-MiniLM-L6-v2"), device="cpu")
        encode = lambda t: model.encode(t, show_progress_bar=False)  # noqa: E731
    else:
        from index.embeddings import shared_embedder

        encode = shared_embedder(backend=backend).encode
    encode(texts[:16])  # load and warm up outside the timing
    t0 = time.perf_counter()
    encode(texts)
    return {"texts": len(texts), "per_s": len(texts) / (time.perf_counter() - t0), "torch_loaded": "torch" in sys.modules}


def _channel(n: int, out: Path) -> Path:
    from pipeline.eval_extraction_run import slack_jsonl

    full = out / "full.jsonl"
    slack_jsonl(corpus_root(), full)
    path = out / "racket.jsonl"
    path.write_text("".join(full.read_text().splitlines(keepends=True)[:n]))
    return path


def part_extract_today(n: int) -> dict:
    """Today's extraction: the thread extractor calling the torch model per thread, no cache."""
    from extractors.threads import ThreadExtractor
    from index.embeddings import Embedder
    from pipeline.ingest import ingest_paths
    from pipeline.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp))
        ingest_paths(store, [_channel(n, Path(tmp))])
        source = store.list_sources()[0]
        passages = store.passages(source.id)
        embedder = Embedder()
        calls = []
        embed = lambda t: (calls.append(len(t)), embedder.encode(t))[1]  # noqa: E731
        embed(["warm up"])
        calls.clear()
        t0 = time.perf_counter()
        ThreadExtractor(embed=embed).run(source, passages)
        seconds = time.perf_counter() - t0
        store.close()
    return {"seconds": seconds, "model_calls": len(calls), "passages": len(passages)}


def part_extract_ours(n: int) -> dict:
    """The product's extraction, cold, then over the same messages again (cache hits)."""
    from pipeline.ingest import ingest_paths
    from pipeline.stages import run_extract, shared_service
    from pipeline.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        channel = _channel(n, home)
        service = shared_service(None)
        service(["warm up"])  # load the model outside the timing
        encoder, embedded = service.encoder, []
        plain_encode = encoder.encode
        encoder.encode = lambda t: (embedded.append(len(t)), plain_encode(t))[1]  # count what reaches the model
        out: dict = {"backend": service.backend}
        for run, path in (("cold", channel), ("again", channel.with_name("racket-reexport.jsonl"))):
            path.write_text(channel.read_text())
            store = open_store(home)
            ingest_paths(store, [path])
            store.close()
            embedded.clear()
            t0 = time.perf_counter()
            run_extract(home=home)
            out[run] = time.perf_counter() - t0
            out[f"{run}_calls"], out[f"{run}_texts"] = len(embedded), sum(embedded)
    return out


def child(args: list[str], backend: str | None = None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **({"PRACTICE_EMBEDDING_BACKEND": backend} if backend else {})}
    done = subprocess.run([sys.executable, __file__, "--part", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench part {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=400)
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--backends", nargs="+", default=["torch", "onnx-int8"])
    parser.add_argument("--service-backend", default="onnx-int8", help="the backend of the extraction run ('auto': the configured default)")
    parser.add_argument("--part", nargs="+")
    a = parser.parse_args()
    if a.part:
        name, *rest = a.part
        result = {"encode": lambda: part_encode(rest[0], rest[1], a.texts),
                  "today": lambda: part_extract_today(a.messages), "ours": lambda: part_extract_ours(a.messages)}[name]()
        print(json.dumps(result))
        return
    for kind in ("short", "post"):
        plain = child(["encode", "plain", kind])
        print(f"embeddings, {plain['texts']} real {kind} texts")
        print(f"  plain SentenceTransformer.encode (fp32) : {plain['per_s']:8.1f} texts/s")
        for backend in a.backends:
            got = child(["encode", backend, kind])
            note = "" if got["torch_loaded"] else "  (torch not imported)"
            print(f"  {backend:<38}: {got['per_s']:8.1f} texts/s   ratio {got['per_s'] / plain['per_s']:5.2f}x{note}")
    today, ours = child(["today"]), child(["ours"], None if a.service_backend == "auto" else a.service_backend)
    print(f"extraction, first {a.messages} messages of the Racket Slack ({today['passages']} passages)")
    print(f"  today: torch per thread, no cache      : {today['seconds']:7.1f} s ({today['model_calls']} model calls)")
    for run, label in (("cold", f"ours ({ours['backend']}), batched, cold"), ("again", "ours, same messages again (cached)")):
        print(f"  {label:<37}: {ours[run]:7.1f} s   ratio {today['seconds'] / ours[run]:5.2f}x"
              f"   ({ours[f'{run}_calls']} model calls, {ours[f'{run}_texts']} texts embedded)")


if __name__ == "__main__":
    main()
