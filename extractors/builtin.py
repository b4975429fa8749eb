"""The built-in extractors, registered through the plugin hook like any third-party package."""

from __future__ import annotations

from extractors.registry import hookimpl


@hookimpl
def practice_extractors() -> list[type]:
    """The offline thread, transcript and document extractors, and the LangChain LLM extractor."""
    from extractors.documents import DocumentExtractor
    from extractors.llm import LLMExtractor
    from extractors.threads import ThreadExtractor
    from extractors.transcripts import TranscriptExtractor

    return [ThreadExtractor, TranscriptExtractor, DocumentExtractor, LLMExtractor]
