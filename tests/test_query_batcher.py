"""The server's query batcher: queries waiting while the model runs share its next call."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from tests.extractors.test_threads_extractor import fake_embed
from web.state import QueryBatcher


class Gated:
    """fake_embed that records each call and holds the first one until `go` is set."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.go = threading.Event()

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        if len(self.calls) == 1:
            self.go.wait(30)
        if "boom" in texts:
            raise RuntimeError("model failed")
        return fake_embed(texts)


def _ask(batcher: QueryBatcher, texts: list[str], out: dict) -> None:
    try:
        out[tuple(texts)] = batcher(texts)
    except RuntimeError as exc:
        out[tuple(texts)] = exc


def _run(batcher: QueryBatcher, embed: Gated, first: list[str], waiting: list[list[str]]) -> dict:
    out: dict = {}
    threads = [threading.Thread(target=_ask, args=(batcher, first, out))]
    threads[0].start()
    while not embed.calls:  # the first call is in the model
        time.sleep(0.001)
    for texts in waiting:
        threads.append(threading.Thread(target=_ask, args=(batcher, texts, out)))
        threads[-1].start()
    while len(batcher._queue) < len(waiting):  # the others queued behind it
        time.sleep(0.001)
    embed.go.set()
    for t in threads:
        t.join(30)
    return out


def test_queries_waiting_on_the_model_share_one_call_and_each_gets_its_own_rows() -> None:
    embed = Gated()
    out = _run(QueryBatcher(embed), embed, ["first"], [["bee"], ["cat", "dog"]])
    assert embed.calls[0] == ["first"] and sorted(embed.calls[1]) == ["bee", "cat", "dog"] and len(embed.calls) == 2
    for texts, vectors in out.items():
        np.testing.assert_allclose(vectors, fake_embed(list(texts)))


def test_a_failed_call_fails_every_query_in_it_and_the_next_call_works() -> None:
    embed = Gated()
    batcher = QueryBatcher(embed)
    out = _run(batcher, embed, ["first"], [["boom"], ["cat"]])
    assert isinstance(out[("boom",)], RuntimeError) and isinstance(out[("cat",)], RuntimeError)
    np.testing.assert_allclose(batcher(["again"]), fake_embed(["again"]))
    with pytest.raises(RuntimeError):
        batcher(["boom"])
