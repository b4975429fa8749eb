"""Embeddings, dedup, vector and keyword index, hybrid search, index releases (issue 4)."""
