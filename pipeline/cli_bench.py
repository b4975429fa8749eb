"""`practice bench`: every benchmark figure of issue 12 in one run, each beside its baseline as a ratio.

The measurements live in `bench/` (a source checkout's; this module only picks sizes, runs them and
prints): the machine's fp32 GEMM rate (bench/hardware.py), embeddings against plain
`SentenceTransformer.encode` with their share of that rate (bench/embed_backends.py), search at 100k
artefacts in-process (bench/search_bench.py) and over HTTP (bench/http_load.py), Prefect's overhead
(bench/prefect_overhead.py) and, when present, the 100k-message `practice run` (bench/scale_run.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

GROUPS = ("gemm", "embed", "search", "http", "prefect", "scale")
BENCH = Path(__file__).resolve().parents[1] / "bench"


@dataclass(frozen=True)
class Sizes:
    """How much each group measures: `--quick` (a few minutes) or the full run."""

    gemm_seconds: float
    texts: int
    artefacts: int
    queries: int
    per_client: int
    prefect_rounds: int
    prefect_messages: int


QUICK = Sizes(gemm_seconds=0.5, texts=64, artefacts=100_000, queries=100, per_client=5, prefect_rounds=1, prefect_messages=2_000)
FULL = Sizes(gemm_seconds=2.0, texts=256, artefacts=100_000, queries=300, per_client=25, prefect_rounds=1, prefect_messages=10_000)


def _bench_modules() -> None:
    if not (BENCH / "report.py").exists():
        raise click.ClickException(f"practice bench runs from a source checkout: {BENCH} is missing")
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))


def torch_gemm(sizes: Sizes, dtype: str = "fp32") -> float:
    """PyTorch's GEMM rate in GFLOP/s, measured in a process of its own (torch stays out of this one)."""
    from report import child

    return float(child(BENCH / "hardware.py", ["torch", "1024", str(sizes.gemm_seconds), dtype])["gflops"])


def gemm_figures(sizes: Sizes) -> tuple[float, float, list[Any]]:
    """The machine's fp32 GEMM rate (GFLOP/s, the best of NumPy and PyTorch), PyTorch's bf16 rate, and their figures."""
    from hardware import machine_gemm
    from report import Figure, ratio

    g = machine_gemm(1024, sizes.gemm_seconds, torch_gemm(sizes))
    bf16 = torch_gemm(sizes, "bf16")
    group = "machine: fp32 GEMM (1024x1024, best of repeated calls)"
    return g["rate"], bf16, [
        Figure(group, "NumPy BLAS, all threads", g["all_threads"], "GFLOP/s", g["one_thread"], "one thread",
               ratio(g["all_threads"], g["one_thread"]), note=f"{os.cpu_count()} cores"),
        Figure(group, "PyTorch, own process", g["torch"], "GFLOP/s", g["all_threads"], "NumPy all threads",
               ratio(g["torch"], g["all_threads"])),
        Figure(group, "GEMM rate used for shares (the best)", g["rate"], "GFLOP/s"),
        Figure(group, "PyTorch bf16, own process (torch-bf16's limit)", bf16, "GFLOP/s", g["rate"], "fp32 GEMM rate",
               ratio(bf16, g["rate"])),
    ]  # fmt: skip


def search_figures(home: Path, sizes: Sizes) -> tuple[list[Any], list[str]]:
    """In-process hybrid search at `sizes.artefacts` published under `home`; also the real questions used."""
    from embed_backends import texts_of
    from report import Figure, child, ratio

    args = ["default", str(home), "--n", str(sizes.artefacts), "--queries", str(sizes.queries)]
    s = child(BENCH / "search_bench.py", args)
    group = (f"search: {s['n']:,} artefacts, default settings (index \"auto\" chose {s['default_index']}), "
             f"{s['queries']} queries, k=10")  # fmt: skip
    d, e, full = s["default"], s["exact"], s["end_to_end"]
    figures = [
        Figure(group, "hybrid p50, query vector given", d["p50"], "ms", e["p50"], "exact index", ratio(d["p50"], e["p50"])),
        Figure(group, "hybrid p99, query vector given", d["p99"], "ms", e["p99"], "exact index", ratio(d["p99"], e["p99"]),
               "≤ 20 ms", d["p99"] <= 20),
        Figure(group, f"hybrid p99 incl. query embedding ({s['backend']})", full["p99"], "ms", d["p99"], "vector given",
               ratio(full["p99"], d["p99"]), "≤ 20 ms", full["p99"] <= 20, f"p50 {full['p50']:.1f} ms"),
        Figure(group, "release build (publish) time", s["default_build_s"], "s", s["exact_build_s"], "exact index build",
               ratio(s["default_build_s"], s["exact_build_s"]), note=str(s["index_settings"])),
    ]  # fmt: skip
    # enough for a question never asked before on every HTTP request (http_load.serve_figures)
    return figures, texts_of("short", 1 + max(20, sizes.per_client) + 20 * sizes.per_client)


def http_figures(home: Path, queries: list[str], sizes: Sizes) -> list[Any]:
    """`practice serve` over `home`: start-up to first answer, then 1 and 20 concurrent clients."""
    from http_load import serve_figures
    from report import Figure, ratio

    h = serve_figures(home, queries, 20, sizes.per_client)
    alone, crowd = h["alone"], h["concurrent"]
    group = f"HTTP: practice serve on loopback, GET /api/search ({crowd['requests']} requests from 20 clients)"
    return [
        Figure(group, "process start to first answered query", h["to_first_answer_s"], "s", goal="≤ 1 s",
               met=h["to_first_answer_s"] <= 1, note=f"of which warm-up (release + model) {h['warm_s']} s; the rest: imports and uvicorn start"),
        Figure(group, "first query once listening (after warm-up)", h["first_query_ms"], "ms", alone["p50"],
               "one client p50", ratio(h["first_query_ms"], alone["p50"]), "≤ 1 s", h["first_query_ms"] <= 1000),
        Figure(group, "20 concurrent clients p99", crowd["p99"], "ms", alone["p99"], "one client p99",
               ratio(crowd["p99"], alone["p99"]), "≤ 100 ms", crowd["p99"] <= 100, f"p50 {crowd['p50']:.0f} ms"),
        Figure(group, "20 concurrent clients errors", crowd["errors"], "errors", goal="0", met=crowd["errors"] == 0,
               note="; ".join(crowd["first_errors"])),
        Figure(group, "20 concurrent clients throughput", crowd["per_s"], "req/s", alone["per_s"], "one client",
               ratio(crowd["per_s"], alone["per_s"]), note=_cpu_note(crowd, alone)),
    ]  # fmt: skip


def _cpu_note(crowd: dict[str, Any], alone: dict[str, Any]) -> str:
    """The server's CPU per request (steadier than wall time on a shared machine), where measured."""
    if crowd.get("server_cpu_ms") is None or alone.get("server_cpu_ms") is None:
        return ""
    return f"server CPU {crowd['server_cpu_ms']:.1f} ms/request (one client: {alone['server_cpu_ms']:.1f}); every request a new question"


def prefect_figures(sizes: Sizes) -> list[Any]:
    """The same run (a chat of real messages) as plain calls and as `practice run`'s flow, whole process."""
    from prefect_overhead import overhead
    from report import Figure, ratio

    o = overhead(sizes.prefect_messages, sizes.prefect_rounds)
    plain = o["plain"]
    group = (f"Prefect: {o['messages']:,}-message chat ({plain['artefacts']} artefacts), whole process, best of {o['rounds']};"
             " baseline: Prefect starting its own server (before)")  # fmt: skip
    figures = []
    for home in ("fresh", "existing"):
        new, old = o[f"flow {home}"], o[f"lazy {home}"]
        for what, key, unit in (("CPU", "cpu_s", "CPU s"), ("wall", "process_s", "s")):
            r, r_old = ratio(new[key], plain[key]), ratio(old[key], plain[key])
            figures.append(Figure(group, f"{home} Prefect home, {what}", new[key], unit, plain[key], "plain calls", r,
                                  "≤ 1.05x", r <= 1.05, f"before: {old[key]:.1f} ({r_old:.3f}x)"))  # fmt: skip
    return figures


def scale_run(quick: bool) -> dict[str, Any] | None:
    """bench/scale_run.py (the 100k-message `practice run`, another bench's) when it exists: its output."""
    script = BENCH / "scale_run.py"
    if not script.exists():
        return None
    env = {**os.environ, "PYTHONPATH": str(BENCH.parent)}
    done = subprocess.run([sys.executable, str(script), *(["--quick"] if quick else [])], env=env, capture_output=True, text=True)
    return {"command": f"python bench/scale_run.py{' --quick' if quick else ''}", "returncode": done.returncode,
            "output": done.stdout.strip(), "error": done.stderr.strip()[-2000:] if done.returncode else ""}  # fmt: skip


def run_bench(groups: tuple[str, ...], sizes: Sizes, quick: bool, echo: Any = None) -> dict[str, Any]:
    """Run the chosen groups in order; `echo(text)` is called with each group's table as it finishes."""
    _bench_modules()
    from report import format_table

    say = echo or (lambda text: None)
    started, load_start = time.perf_counter(), os.getloadavg()
    figures: list[Any] = []

    def add(new: list[Any]) -> None:
        figures.extend(new)
        say(format_table(new) + "\n")

    gemm, bf16, gemm_figs = gemm_figures(sizes)  # always: the shares need it
    if "gemm" in groups:
        add(gemm_figs)
    if "embed" in groups:
        from embed_backends import embedding_figures

        add(embedding_figures(sizes.texts, ["torch", "torch-bf16", "onnx-int8"], gemm, bf16_gflops=bf16))
    if "search" in groups or "http" in groups:
        with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
            found, queries = search_figures(Path(tmp), sizes)
            add(found)
            if "http" in groups:
                add(http_figures(Path(tmp), queries, sizes))
    if "prefect" in groups:
        add(prefect_figures(sizes))
    scale = scale_run(quick) if "scale" in groups else None
    if scale is not None:
        say(f"scale ({scale['command']}, exit {scale['returncode']}):\n{scale['output']}\n{scale['error']}".rstrip() + "\n")
    return {
        "quick": quick, "groups": list(groups), "seconds": time.perf_counter() - started,
        "load_average": {"start": load_start[0], "end": os.getloadavg()[0]}, "cores": os.cpu_count(),
        "gemm_gflops": gemm, "bf16_gemm_gflops": bf16, "figures": [f.to_json() for f in figures], "scale": scale,
    }  # fmt: skip


@click.command("bench")
@click.option("--quick", is_flag=True, help="Smaller samples (a few minutes instead of ~15).")
@click.option("--only", multiple=True, type=click.Choice(GROUPS), help="Only these groups (repeatable) [default: all].")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON (nothing else on stdout).")
def bench_command(quick: bool, only: tuple[str, ...], as_json: bool) -> None:
    """Measure issue 12's figures in one run, each beside its baseline as a ratio.

    The machine's fp32 (and PyTorch's bf16) GEMM rate; embeddings (short questions and 1,000-character
    posts: torch, torch-bf16 and onnx-int8 against plain SentenceTransformer.encode, cosine to fp32,
    share of the GEMM rate);
    search at 100k artefacts in-process and over HTTP with 20 clients; the first query after
    `practice serve` starts; Prefect's overhead; and bench/scale_run.py when present. Reads the real
    corpus in ../shared/corpus.
    """
    groups = only or GROUPS
    echo = None if as_json else (lambda text: click.echo(text))
    if not as_json:
        click.echo(f"practice bench{' --quick' if quick else ''}: {', '.join(groups)} (load average {os.getloadavg()[0]:.1f}, "
                   f"{os.cpu_count()} cores)\n")  # fmt: skip
    result = run_bench(groups, QUICK if quick else FULL, quick, echo)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    load = result["load_average"]
    click.echo(f"total {result['seconds']:.0f} s; load average {load['start']:.1f} at start, {load['end']:.1f} at the end")
