"""Embeddings, dedup, vector and keyword index, hybrid search, index releases (issue 4)."""

import os

# OpenMP threads (torch's and FAISS's libgomp) sleep when idle instead of spinning. On a busy
# 2-core machine spinning threads take the cores the other pool is waiting for: one query's
# embedding after a FAISS search went from p50 1,430 ms to 63 ms here (load average 15;
# `practice bench` shows it in-process). Read when libgomp loads: before torch or FAISS are
# imported, which is why it is set on importing this package. An explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# oneDNN (torch's CPU kernels, the bf16 backend's matrix products) keeps a compiled primitive with
# its scratch memory for every input shape it met, up to 1,024 of them; a source's texts come in
# batches of ever-new (batch, length) shapes. 16 kept held the same speed here and ~130 MB less
# after embedding a 10k-message chat's 5,509 texts (`bench/embed_backends.py` figures unchanged).
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16")
