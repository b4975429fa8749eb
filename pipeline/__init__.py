"""Practice Index core: models, store, sources (ingest), and the functions the CLI, flows and API share."""

__version__ = "0.1.0"
