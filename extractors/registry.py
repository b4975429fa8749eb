"""Extractor plugins: built-ins are registered through the same pluggy hook a third party uses.

A package adds extractors by exposing a module with a `practice_extractors` hook implementation
under the `practice_index` entry-point group:

    [project.entry-points.practice_index]
    my_extractors = "my_package.plugin"

    # my_package/plugin.py
    from extractors.registry import hookimpl

    @hookimpl
    def practice_extractors():
        return [MyExtractor]
"""

from __future__ import annotations

import inspect
from functools import lru_cache
from typing import Any

import pluggy

from extractors.base import Extractor

PROJECT = "practice_index"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# Offline extractors run by default; the LLM one only when named (it needs a configured model).
DEFAULT_EXTRACTORS = ("threads", "transcripts", "documents")


class ExtractorSpec:
    """The hooks a plugin may implement."""

    @hookspec
    def practice_extractors(self) -> list[type]:  # type: ignore[empty-body]
        """Return extractor classes (each with `name`, `version`, `source_kinds`, `run`)."""


@lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    """The plugin manager with the built-ins and every installed plugin registered."""
    from extractors import builtin

    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(ExtractorSpec)
    pm.register(builtin, name="builtin")
    pm.load_setuptools_entrypoints(PROJECT)
    return pm


def extractor_classes(pm: pluggy.PluginManager | None = None) -> dict[str, type]:
    """Every registered extractor class by name (a later plugin cannot silently replace a name)."""
    classes: dict[str, type] = {}
    for batch in (pm or plugin_manager()).hook.practice_extractors():
        for cls in batch:
            if cls.name in classes and classes[cls.name] is not cls:
                raise ValueError(f"two extractors are registered as {cls.name!r}")
            classes[cls.name] = cls
    return classes


def build_extractors(names: list[str] | None = None, **config: Any) -> list[Extractor]:
    """Instantiate extractors by name (default: the offline ones); `config` goes to those that take it."""
    classes = extractor_classes()
    wanted = names or list(DEFAULT_EXTRACTORS)
    unknown = [n for n in wanted if n not in classes]
    if unknown:
        raise KeyError(f"unknown extractor(s) {', '.join(unknown)}; registered: {', '.join(sorted(classes))}")
    return [classes[n](**config.get(n, {})) for n in wanted]


def takes_embed(cls: type) -> bool:
    """Whether an extractor class accepts an injected `embed` function."""
    return "embed" in inspect.signature(cls.__init__).parameters


def embed_config(classes: dict[str, type], embed: Any) -> dict[str, dict[str, Any]]:
    """`build_extractors` config giving `embed` (the run's embedding service) to every extractor that takes it."""
    return {name: {"embed": embed} for name, cls in classes.items() if takes_embed(cls)}
