"""BM25 keyword index (bm25s) over the product's own terms (``pipeline.text.content_words``).

Search tokenises like extractors and dedup do: one stop list, one stemmer (pipeline/text.py).
Rows are numbered in the order the texts were given; `search` returns row indices. Documents that
share no term with the query score 0 and are never returned (they are not matches).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.text import content_words

__all__ = ["TOKENIZER", "KeywordIndex"]

log = logging.getLogger(__name__)

PARAMS_FILE = "keyword.json"
FORMAT_VERSION = 2
#: The terms of an index written by this version: pipeline.text's words, stop list and stemmer.
TOKENIZER = "practice-text-1"
#: Indexes written before the shared toolkit (format 1) used bm25s's English stop words and no
#: stemmer; a release keeps the terms it was built with, so its queries are read the same way.
LEGACY_TOKENIZER = "bm25s-en"


class KeywordIndex:
    """BM25 over a list of texts (bm25s, Lucene variant, k1=1.5, b=0.75)."""

    def __init__(self, k1: float = 1.5, b: float = 0.75, tokenizer: str = TOKENIZER) -> None:
        if tokenizer not in (TOKENIZER, LEGACY_TOKENIZER):
            raise ValueError(f"unknown keyword tokenizer {tokenizer!r} (this version reads {TOKENIZER!r})")
        self.tokenizer = tokenizer
        self.k1 = k1
        self.b = b
        self._retriever: Any = None
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def tokenize(self, texts: list[str]) -> list[list[str]]:
        """The BM25 terms of each text: content words, stop words out, stemmed."""
        if self.tokenizer == LEGACY_TOKENIZER:
            import bm25s

            if not texts:
                return []
            return bm25s.tokenize(list(texts), stopwords="en", return_ids=False, show_progress=False)
        return [content_words(t) for t in texts]

    def build(self, texts: list[str]) -> "KeywordIndex":
        """Index the texts (replacing whatever was indexed); row i is texts[i]."""
        import bm25s

        self.size = len(texts)
        self._retriever = None
        if not texts:
            return self
        terms = self.tokenize(list(texts))
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in terms]
        if not vocab:  # no text has a single indexable word: nothing can match
            return self
        tokens = bm25s.tokenization.Tokenized(ids=ids, vocab=vocab)
        retriever = bm25s.BM25(k1=self.k1, b=self.b)
        retriever.index(tokens, show_progress=False)
        self._retriever = retriever
        return self

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every row for the query (0 where no query term occurs)."""
        out = np.zeros(self.size, dtype=np.float32)
        if self._retriever is None or not query.strip():
            return out
        tokens = self.tokenize([query])[0]
        vocab = self._retriever.vocab_dict
        token_ids = [vocab[t] for t in tokens if t in vocab]
        if not token_ids:
            return out
        return np.asarray(self._retriever.get_scores_from_ids(token_ids), dtype=np.float32)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The k best (scores, row indices), best first, matching rows only (score > 0).

        ``mask`` (bool per row) restricts the search to the rows where it is True.
        """
        scores = self.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0).astype(np.float32)
        hits = np.flatnonzero(scores > 0)
        if k <= 0 or hits.size == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        if hits.size > k:
            part = np.argpartition(-scores[hits], k - 1)[:k]
            hits = hits[part]
        order = np.lexsort((hits, -scores[hits]))  # best first, ties by row
        hits = hits[order]
        return scores[hits], hits.astype(np.int64)

    def save(self, folder: str | os.PathLike[str]) -> None:
        """Write the index into a folder (created if missing)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self._retriever is not None:
            self._retriever.save(str(folder), show_progress=False)
        params = {
            "format_version": FORMAT_VERSION,
            "size": self.size,
            "tokenizer": self.tokenizer,
            "k1": self.k1,
            "b": self.b,
        }
        (folder / PARAMS_FILE).write_text(json.dumps(params, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: str | os.PathLike[str], mmap: bool = False) -> "KeywordIndex":
        """Read an index written by `save`."""
        import bm25s

        folder = Path(folder)
        params = json.loads((folder / PARAMS_FILE).read_text(encoding="utf-8"))
        if "tokenizer" in params:
            tokenizer = params["tokenizer"]
        elif params.get("stopwords") == "en" and params.get("stemmer") is None:
            tokenizer = LEGACY_TOKENIZER
        else:
            raise ValueError(f"{folder / PARAMS_FILE}: keyword index with stemmer {params.get('stemmer')!r} cannot be read")
        index = cls(k1=params["k1"], b=params["b"], tokenizer=tokenizer)
        index.size = int(params["size"])
        if (folder / "params.index.json").exists():
            index._retriever = bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False)
        return index
