"""Print the seeded sample of source-level thread units for the labeller to read (a reading aid: it decides nothing).

Usage (from the worktree root)::

    PYTHONPATH=$PWD python bench/gold/sample_units.py FORMAT --n 72 [--start 0 --count 10]

prints units ``start .. start+count`` of the seeded sample, each message numbered and keyed as the gold keys it.
"""

from __future__ import annotations

import argparse

from pipeline.gold_units import LOADERS, SEED, Unit, sample


def show(unit: Unit, cap: int, reply_cap: int) -> str:
    """One unit as text for reading; the first message cut at `cap` characters, the others at `reply_cap` (cuts marked)."""
    out = [f"=== {unit['format']} {unit['thread_key']} {unit.get('subject', '')}"]
    for i, m in enumerate(unit["messages"]):
        limit = cap if i == 0 else reply_cap
        text = m["text"] if len(m["text"]) <= limit else m["text"][:limit] + f" [...{len(m['text']) - limit} more chars]"
        out.append(f"{i}. [{m['key']}] ({m.get('author', '')}) {text}")
    return "\n".join(out)


def main() -> None:
    """Print a slice of the seeded sample of one format."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("format", choices=sorted(LOADERS))
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--n", type=int, default=70)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--cap", type=int, default=1500, help="characters shown of the first message")
    ap.add_argument("--reply-cap", type=int, default=500, help="characters shown of every other message")
    args = ap.parse_args()
    units = sample(args.format, args.n, args.seed)
    print(f"# {len(LOADERS[args.format]())} units in total, sample of {len(units)}")
    for i, unit in enumerate(units[args.start : args.start + args.count], start=args.start):
        print(f"\n##{i}")
        print(show(unit, args.cap, args.reply_cap))


if __name__ == "__main__":
    main()
