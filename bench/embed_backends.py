"""Embedding backends and the embedding service, each next to its baseline in one run.

1. Texts/s of plain `SentenceTransformer.encode` (fp32, defaults) against each backend through the
   product's encoder (`shared_embedder(backend=...)`: length-bucketed batches), on real corpus texts:
   Stack Exchange question titles (short, ≤ 64 tokens) and post bodies cut to 1,000 characters; with
   each backend's mean cosine to the plain fp32 vectors and its achieved FLOP/s (bench/hardware.py)
   as a share of the machine's fp32 GEMM rate measured in the same run. Each measurement runs in its
   own process, as in production (torch and ONNX Runtime in one process slow each other).
   `embedding_figures` is what `practice bench` prints.
2. Extraction over a real chat channel (the first N messages of the Racket Slack, as JSONL):
   today's path (the thread extractor calling the torch model once per thread, nothing cached)
   against the product's (the configured backend, every thread's texts embedded in one batched call
   per source and cached in the store), cold, then a second run over the same messages (the
   channel re-exported under another name: a new source, the same texts) where the cache answers.

    .venv/bin/python bench/embed_backends.py [--texts 400] [--messages 1500] [--no-extract] [--service-backend onnx-int8|torch|auto]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.embed_export import corpus_root  # noqa: E402  (no torch: safe in the parent process)


SE = "threads/stackexchange/quantumcomputing.stackexchange.com"
SHORT_TOKENS = 64
POST_CHARS = 1000


def texts_of(kind: str, n: int) -> list[str]:
    """Real texts: "short" = Stack Exchange question titles (≤ 64 tokens), "post" = post bodies
    (questions and answers) of at least 1,000 characters, cut to 1,000."""
    import xml.etree.ElementTree as ET

    rows = ET.parse(corpus_root() / SE / "Posts.xml").getroot()
    if kind == "short":
        titles = [r.get("Title", "") for r in rows if r.get("Title")]
        counts = token_counts(titles)
        return [t for t, c in zip(titles, counts) if c <= SHORT_TOKENS][:n]
    return [b[:POST_CHARS] for b in (r.get("Body", "") for r in rows) if len(b) >= POST_CHARS][:n]


def model_dir() -> Path:
    from index.embeddings import DEFAULT_MODEL, resolve_model_path

    return Path(resolve_model_path(DEFAULT_MODEL))


def token_counts(texts: list[str]) -> list[int]:
    """Real tokens per text ([CLS] and [SEP] included) as the model's tokenizer splits them, untruncated."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return [len(e.ids) for e in tokenizer.encode_batch(texts)]


def part_encode(backend: str, kind: str, n: int, save: str | None = None) -> dict:
    """Texts/s of one backend on one kind of text (run in a child process); vectors saved to `save`."""
    import numpy as np

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
    vectors = encode(texts)
    seconds = time.perf_counter() - t0
    if save:
        np.save(save, np.asarray(vectors, dtype=np.float32))
    out = {"texts": len(texts), "seconds": seconds, "per_s": len(texts) / seconds, "torch_loaded": "torch" in sys.modules}
    if backend == "plain":  # torch is loaded here anyway: its own fp32 GEMM rate, for comparison
        from hardware import torch_gemm_gflops

        out["torch_gemm_gflops"] = torch_gemm_gflops()
    return out


def mean_cosine(a, b) -> float:  # type: ignore[no-untyped-def]
    """Mean cosine between matching rows of two arrays (neither needs to be normalised)."""
    import numpy as np

    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float((a * b).sum(axis=1).mean())


def embedding_figures(
    n: int, backends: list[str], gemm_gflops: float, kinds: tuple[str, ...] = ("short", "post"), bf16_gflops: float | None = None
) -> list:
    """Per kind of text: plain fp32 encode, then each backend beside it (texts/s ratio, mean cosine
    to the plain vectors, achieved FLOP/s as a share of `gemm_gflops`; torch-bf16's as a share of
    `bf16_gflops` when given, the rate of the products it runs), as `bench.report.Figure`s."""
    import numpy as np

    from hardware import EncoderShape, share
    from report import Figure, child, ratio

    shape = EncoderShape.from_model_dir(model_dir())
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        for kind in kinds:
            texts = texts_of(kind, n)
            counts = token_counts(texts)
            flops = shape.flops(counts)
            group = (f"embeddings: {len(texts)} {'question titles' if kind == 'short' else '1,000-character posts'}"
                     f" (mean {np.mean([min(c, shape.max_tokens) for c in counts]):.0f} tokens, {flops / len(texts) / 1e9:.2f} GFLOP a text)")
            plain_file = f"{tmp}/{kind}-plain.npy"
            plain = child(Path(__file__), ["encode", "plain", kind, "--save", plain_file, "--texts", str(n)])
            plain_vectors = np.load(plain_file)
            plain_share = share(flops / plain["seconds"], gemm_gflops)
            figures.append(Figure(group, "plain SentenceTransformer.encode fp32, texts/s", plain["per_s"], "texts/s",
                                  note=f"{plain_share:.2f} of the GEMM rate"))
            figures.append(Figure(group, "torch fp32 GEMM in that process", plain["torch_gemm_gflops"], "GFLOP/s",
                                  gemm_gflops, "the machine's GEMM rate", ratio(plain["torch_gemm_gflops"], gemm_gflops)))
            for backend in backends:
                out = f"{tmp}/{kind}-{backend}.npy"
                got = child(Path(__file__), ["encode", backend, kind, "--save", out, "--texts", str(n)])
                cos = mean_cosine(np.load(out), plain_vectors)
                achieved = flops / got["seconds"]
                note = "" if got["torch_loaded"] else "torch not imported"
                limit, limit_name = gemm_gflops, "fp32 GEMM rate"
                if backend == "torch-bf16" and bf16_gflops:
                    limit, limit_name = bf16_gflops, "bf16 GEMM rate"
                    note = f"{share(achieved, gemm_gflops):.2f} of the fp32 GEMM rate"
                figures += [
                    Figure(group, f"{backend}, texts/s", got["per_s"], "texts/s", plain["per_s"], "plain fp32",
                           ratio(got["per_s"], plain["per_s"]), "≥ 3x", ratio(got["per_s"], plain["per_s"]) >= 3, note),
                    Figure(group, f"{backend}, mean cosine to fp32", cos, "cosine", goal="≥ 0.98", met=cos >= 0.98),
                    Figure(group, f"{backend}, achieved GFLOP/s", achieved / 1e9, "GFLOP/s", limit, limit_name,
                           share(achieved, limit), "≥ 0.6 of GEMM", share(achieved, limit) >= 0.6, note),
                ]
    return figures


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
    """One extraction part in its own process (`backend`: $PRACTICE_EMBEDDING_BACKEND there)."""
    from report import child as run_part

    return run_part(Path(__file__), args, {"PRACTICE_EMBEDDING_BACKEND": backend} if backend else None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=400)
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--backends", nargs="+", default=["torch", "torch-bf16", "onnx-int8"])
    parser.add_argument("--service-backend", default="onnx-int8", help="the backend of the extraction run ('auto': the configured default)")
    parser.add_argument("--no-extract", action="store_true", help="only the encode figures")
    parser.add_argument("--save", help="(child part) where to save the vectors")
    parser.add_argument("--part", nargs="+")
    a = parser.parse_args()
    if a.part:
        name, *rest = a.part
        result = {"encode": lambda: part_encode(rest[0], rest[1], a.texts, a.save),
                  "today": lambda: part_extract_today(a.messages), "ours": lambda: part_extract_ours(a.messages)}[name]()
        print(json.dumps(result))
        return
    from hardware import machine_gemm
    from report import child as run_part, format_table

    gemm = machine_gemm(torch_rate=run_part(Path(__file__).with_name("hardware.py"), ["torch", "1024", "1.0"])["gflops"])["rate"]
    bf16 = run_part(Path(__file__).with_name("hardware.py"), ["torch", "1024", "1.0", "bf16"])["gflops"]
    print(f"fp32 GEMM rate (best of NumPy and PyTorch, 1024²): {gemm:.1f} GFLOP/s; PyTorch bf16: {bf16:.1f} GFLOP/s")
    print(format_table(embedding_figures(a.texts, a.backends, gemm, bf16_gflops=bf16)))
    if a.no_extract:
        return
    messages = ["--messages", str(a.messages)]
    today = child(["today", *messages])
    ours = child(["ours", *messages], None if a.service_backend == "auto" else a.service_backend)
    print(f"extraction, first {a.messages} messages of the Racket Slack ({today['passages']} passages)")
    print(f"  today: torch per thread, no cache      : {today['seconds']:7.1f} s ({today['model_calls']} model calls)")
    for run, label in (("cold", f"ours ({ours['backend']}), batched, cold"), ("again", "ours, same messages again (cached)")):
        print(f"  {label:<37}: {ours[run]:7.1f} s   ratio {today['seconds'] / ours[run]:5.2f}x"
              f"   ({ours[f'{run}_calls']} model calls, {ours[f'{run}_texts']} texts embedded)")


if __name__ == "__main__":
    main()
