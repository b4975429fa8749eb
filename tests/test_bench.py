"""`practice bench`'s plumbing: the FLOP arithmetic, the GEMM rate's formula, the ratio line (no timings asserted)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from pipeline import cli_bench
from pipeline.cli import main

cli_bench._bench_modules()  # bench/ on sys.path, as `practice bench` puts it
import hardware  # noqa: E402
import report  # noqa: E402


@pytest.fixture
def minilm_dir(tmp_path: Path) -> Path:
    """A model folder with all-MiniLM-L6-v2's sizes (its config.json and sentence-transformers' limit)."""
    (tmp_path / "config.json").write_text(json.dumps(
        {"num_hidden_layers": 6, "hidden_size": 384, "intermediate_size": 1536, "max_position_embeddings": 512}
    ))  # fmt: skip
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 256}))
    return tmp_path


def test_encoder_flops_are_two_per_weight_per_token_plus_attention(minilm_dir: Path) -> None:
    shape = hardware.EncoderShape.from_model_dir(minilm_dir)
    assert shape.max_tokens == 256  # sentence-transformers truncates before the 512 positions
    # per layer: Q, K, V, output 4·384·384 = 589,824 and feed-forward 2·384·1536 = 1,179,648 weights
    assert shape.matmul_params == 6 * 1_769_472 == 10_616_832
    # 10 tokens: 2 FLOPs per weight per token, plus scores and their use on V: 4·6·384·10²
    assert shape.text_flops(10) == 212_336_640 + 921_600
    assert shape.text_flops(300) == shape.text_flops(256)  # truncated like the encoder
    assert shape.flops([10, 10]) == 2 * shape.text_flops(10)


def test_gemm_rate_is_two_mkn_over_the_best_call(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter([0.0, 0.5, 1.0, 1.25, 2.0, 2.5])  # calls taking 0.5, 0.25, 0.5 s (a fake clock)
    monkeypatch.setattr(hardware.time, "perf_counter", lambda: next(ticks))
    a, b = np.zeros((100, 200), np.float32), np.zeros((200, 300), np.float32)
    rate = hardware.gemm_gflops(np.matmul, a, b, min_seconds=1.0)
    assert rate == pytest.approx(2 * 100 * 200 * 300 / 0.25 / 1e9)
    assert hardware.share(30e9, 60.0) == pytest.approx(0.5)


def test_a_figure_with_a_baseline_prints_their_ratio_and_the_goal() -> None:
    figure = report.Figure("g", "onnx-int8, texts/s", 90.0, "texts/s", 30.0, "plain fp32", report.ratio(90.0, 30.0), "≥ 3x", True)
    line = report.format_table([figure]).splitlines()[1]
    assert "90.0" in line and "30.0 plain fp32" in line and "ratio   3.00x" in line and "goal met" in line
    assert figure.to_json()["ratio"] == 3.0 and report.Figure("g", "n", float("nan"), "s").to_json()["value"] is None


def test_practice_bench_quick_gemm_prints_the_rate_beside_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # torch's own process: not this test's plumbing (fp32 1.5, bf16 6.0 GFLOP/s)
    monkeypatch.setattr(cli_bench, "torch_gemm", lambda sizes, dtype="fp32": {"fp32": 1.5, "bf16": 6.0}[dtype])
    out = CliRunner().invoke(main, ["bench", "--quick", "--only", "gemm"])
    assert out.exit_code == 0, out.output
    line = next(x for x in out.output.splitlines() if "NumPy BLAS, all threads" in x)
    assert "GFLOP/s" in line and "one thread" in line and "ratio" in line
    data = json.loads(CliRunner().invoke(main, ["bench", "--quick", "--only", "gemm", "--json"]).output)
    numpy_all, torch_rate, best, bf16 = data["figures"]
    assert numpy_all["ratio"] == pytest.approx(numpy_all["value"] / numpy_all["baseline"])
    assert torch_rate["value"] == 1.5 and torch_rate["ratio"] == pytest.approx(1.5 / numpy_all["value"])
    assert data["gemm_gflops"] == best["value"] == max(numpy_all["value"], numpy_all["baseline"], 1.5)
    assert data["bf16_gemm_gflops"] == bf16["value"] == 6.0 and bf16["ratio"] == pytest.approx(6.0 / best["value"])
    assert data["scale"] is None


def test_http_load_asks_every_question_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The HTTP load bench never repeats a question within a run (a result cache must not be what
    it measures), and refuses to run with too few distinct questions."""
    import http.server
    import os
    import threading
    import urllib.parse

    import http_load

    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the bench's clients use it

        def do_GET(self) -> None:
            asked.append(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["q"][0])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    class Process:  # stands in for `practice serve`: this process, left running
        pid = os.getpid()

        def terminate(self) -> None:
            pass

        def wait(self, timeout: float | None = None) -> int:
            return 0

    def first_query(home: Path, query: str, timeout: float = 300.0, code: Path | None = None) -> tuple[Any, int, dict]:
        asked.append(query)
        return Process(), server.server_address[1], {"to_first_answer_s": 0.0, "first_query_ms": 0.0, "warm_s": None}

    monkeypatch.setattr(http_load, "first_query", first_query)
    queries = [f"question {i}" for i in range(1 + 20 + 3 * 4)]
    try:
        out = http_load.serve_figures(tmp_path, queries, clients=3, per_client=4)
    finally:
        server.shutdown()
    assert sorted(asked) == sorted(queries)  # each question exactly once
    assert (out["concurrent"]["requests"], out["concurrent"]["errors"], out["alone"]["requests"]) == (12, 0, 20)
    with pytest.raises(ValueError, match="distinct"):
        http_load.serve_figures(tmp_path, queries[:20] + queries[:13], clients=3, per_client=4)
