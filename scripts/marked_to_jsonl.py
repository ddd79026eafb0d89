"""Regenerate a pseudonymisation evaluation set from its hand-marked source (maintainers' helper).

    .venv/bin/python scripts/marked_to_jsonl.py tests/data/pseudo/eval.marked.txt tests/data/pseudo/eval.jsonl

The source holds one passage per block with inline marks ``{PER:Jean-Luc Mermoud}``
(`pipeline.exchange.pseudonymize.parse_marked`); the JSONL is what `codeur pseudonymize --evaluate`
reads. tests/test_pseudonymize.py checks that each committed pair agrees.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.core.atomic import write_jsonl  # noqa: E402
from pipeline.exchange.pseudonymize import parse_marked  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    source, out = argv
    rows = parse_marked(Path(source).read_text(encoding="utf-8"))
    n = write_jsonl(out, rows)
    print(f"wrote {n} passages, {sum(len(r['entities']) for r in rows)} marked entities to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
