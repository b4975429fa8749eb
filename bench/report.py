"""One benchmark figure next to its baseline, the table `practice bench` prints, and child-process parts.

Every measurement that loads a model or a server runs in its own process (`child`), as in
production: torch and ONNX Runtime in one process slow each other, and a figure should not pay for
what an earlier one left loaded.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Figure:
    """A measured value, the baseline it is read against (same run), their ratio and the goal."""

    group: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None  # value / baseline unless the figure says otherwise (e.g. speed-ups)
    goal: str = ""
    met: bool | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        """The figure as JSON (NaN becomes null)."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def ratio(value: float, baseline: float) -> float:
    """value / baseline, NaN when the baseline is zero."""
    return value / baseline if baseline else float("nan")


def _num(x: float | None, unit: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if unit == "cosine":
        return f"{x:.4f}"
    if unit == "share" or abs(x) < 10:
        return f"{x:.3g}" if abs(x) >= 1 or unit == "share" else f"{x:.3f}"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.1f}"


def _ratio(x: float | None) -> str:
    if x is None or math.isnan(x):
        return "-"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def format_table(figures: list[Figure]) -> str:
    """Figures grouped under their group's heading: value, baseline, ratio, goal and whether it is met."""
    lines: list[str] = []
    group = None
    for f in figures:
        if f.group != group:
            group = f.group
            lines.append(f"\n{group}")
        verdict = "" if f.met is None else ("  goal met" if f.met else "  goal MISSED")
        line = f"  {f.name:<46} {_num(f.value, f.unit):>9} {f.unit:<9}"
        if f.baseline is not None:
            line += f" vs {_num(f.baseline, f.unit):>8} {f.baseline_name:<28} ratio {_ratio(f.ratio):>6}x"
        if f.goal:
            line += f"   (goal {f.goal}){verdict}"
        if f.note:
            line += f"   [{f.note}]"
        lines.append(line.rstrip())
    return "\n".join(lines).lstrip("\n")


def child(
    script: Path, args: list[str], env: dict[str, str] | None = None, timeout: float | None = None, drop: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Run `python SCRIPT --part ARGS...` in a fresh process (`env` added, `drop` variables removed);
    its last stdout line, parsed as JSON."""
    full_env = {k: v for k, v in os.environ.items() if k not in drop}
    full_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    done = subprocess.run(
        [sys.executable, str(script), "--part", *args], env=full_env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench part {script.name} {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
