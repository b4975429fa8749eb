"""The core never imports a web or workflow framework: FastAPI, Starlette, uvicorn and Prefect
belong to the front doors (web/, flows/, assistants/, and the CLI modules that start them).

Read with `ast` (nothing is imported), so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ("pipeline", "extractors", "index")
FRAMEWORKS = {"fastapi", "starlette", "uvicorn", "prefect", "prefect_dask"}
FRONT_DOORS = {"web", "flows", "assistants"}  # importing these pulls the frameworks in
# Core-tree modules that are front doors themselves: the CLI commands that run a flow or the server.
EDGES = {
    "pipeline/cli.py": {"flows"},
    "pipeline/cli_run.py": {"flows"},
    "pipeline/cli_deploy.py": {"flows"},
    "pipeline/cli_serve.py": {"uvicorn", "web"},
    "pipeline/cli_mcp.py": {"uvicorn", "assistants"},
}


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports, anywhere in it (relative imports left out)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def core_violations(root: Path) -> dict[str, set[str]]:
    """Core modules importing a framework or a front door they are not listed as allowed to."""
    out = {}
    for package in CORE:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            bad = (imported_packages(path) & (FRAMEWORKS | FRONT_DOORS)) - EDGES.get(rel, set())
            if bad:
                out[rel] = bad
    return out


def test_core_modules_import_neither_fastapi_nor_prefect() -> None:
    assert core_violations(ROOT) == {}


def test_the_check_sees_a_lazy_framework_import(tmp_path: Path) -> None:
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "sneaky.py").write_text("def f():\n    from fastapi import FastAPI\n    import prefect.flows\n")
    (tmp_path / "pipeline" / "cli_serve.py").write_text("import uvicorn\nfrom web.app import create_app\nimport fastapi\n")
    assert core_violations(tmp_path) == {"pipeline/sneaky.py": {"fastapi", "prefect"}, "pipeline/cli_serve.py": {"fastapi"}}


def test_every_listed_edge_exists() -> None:
    missing = [rel for rel in EDGES if not (ROOT / rel).exists()]
    assert missing == []
