"""Prefect flows: thin wiring over pipeline functions, nothing else."""
