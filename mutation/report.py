"""Print what ``mutmut run`` found: the kill rate per module and overall, and every surviving mutant.

Run by ``make mutation`` after ``mutmut run`` (from the project root, where ``mutants/`` is).  Mutants
listed in ``mutation/equivalent.txt`` (one ``name  # why`` a line) behave exactly like the original and
are left out of the rate; a listed mutant that is killed or no longer exists is reported, so the list
cannot go stale quietly.  Exits 1 when fewer than ``--goal`` percent of the other mutants are killed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

# mutmut's exit codes: a test failed (or pytest broke, or it hung): the mutant is killed.
KILLED = {1, 3, 24, -24, 152, 255, 36, -9, -11, 37}
SURVIVED = {0}
NO_TESTS = {5, 33}
BUDGET = {2}  # mutation/budget.py stopped its tests: not killed within the budget
HERE = Path(__file__).resolve().parent


def equivalents(path: Path) -> dict[str, str]:
    """``name  # reason`` lines; blank lines and lines starting with # are comments."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, reason = line.partition("#")
            found[name.strip()] = reason.strip()
    return found


def results(root: Path) -> dict[str, dict[str, int | None]]:
    """Exit code per mutant, per source file (``continuum/engine/read.py``)."""
    by_module: dict[str, dict[str, int | None]] = {}
    for meta in sorted((root / "mutants").rglob("*.py.meta")):
        source = meta.relative_to(root / "mutants").as_posix().removesuffix(".meta")
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key") or {}
        if codes:
            by_module[source] = codes
    return by_module


def diff_of(name: str, source: str) -> str:
    """The mutated lines of one mutant (mutmut's own diff, without its headers)."""
    try:
        from mutmut.mutation.diff_apply import get_diff_for_mutant

        diff = get_diff_for_mutant(name, path=source)
    except Exception as exc:  # an old mutants/ folder, or a mutmut that moved the function
        return f"      (no diff: {type(exc).__name__})"
    lines = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return "\n".join(f"      {line}" for line in lines[:6])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goal", type=float, default=90.0, help="percent of non-equivalent mutants to kill")
    parser.add_argument("--no-diffs", action="store_true", help="list survivors by name only")
    args = parser.parse_args()
    root = Path.cwd()
    by_module = results(root)
    if not by_module:
        print("no mutation results under mutants/: run `make mutation`", file=sys.stderr)
        return 2
    known = equivalents(HERE / "equivalent.txt")
    total: Counter[str] = Counter()
    survivors: list[tuple[str, str, str]] = []
    print(f"{'module':44} {'mutants':>8} {'killed':>7} {'survived':>8} {'budget':>7} {'no test':>8} {'equiv.':>7} "
          f"{'kill rate':>9}")
    for source, codes in by_module.items():
        row: Counter[str] = Counter()
        for name, code in codes.items():
            row["mutants"] += 1
            if code in KILLED:
                row["killed"] += 1
            elif name in known:
                row["equivalent"] += 1
            else:
                kind = "no_tests" if code in NO_TESTS else "budget" if code in BUDGET else "survived"
                row[kind] += 1
                survivors.append((source, name, {"no_tests": "no test covers it", "budget": "not killed within the "
                                                 "time budget"}.get(kind, "survived")))
        total.update(row)
        _line(source, row)
    _line("all", total)
    all_names = {name: codes[name] for codes in by_module.values() for name in codes}
    stale = [name for name in known if all_names.get(name, 1) in KILLED]
    if stale:
        print("\nlisted as equivalent but killed or gone (update mutation/equivalent.txt):")
        print("\n".join(f"  {name}" for name in stale))
    print(f"\nsurvivors ({len(survivors)}; `.venv/bin/mutmut show NAME` shows one):")
    for source, name, why in survivors:
        print(f"  {name}  [{why}]")
        if not args.no_diffs:
            print(diff_of(name, source))
    rate = 100.0 * total["killed"] / max(1, total["mutants"] - total["equivalent"])
    print(f"\nkill rate of non-equivalent mutants: {rate:.1f}% (goal {args.goal:g}%)")
    return 0 if rate >= args.goal else 1


def _line(name: str, row: Counter[str]) -> None:
    print(f"{name:44} {row['mutants']:8} {row['killed']:7} {row['survived']:8} {row['budget']:7} "
          f"{row['no_tests']:8} {row['equivalent']:7} {_rate(row):>9}")


def _rate(row: Counter[str]) -> str:
    judged = row["mutants"] - row["equivalent"]
    return f"{100.0 * row['killed'] / judged:.1f}%" if judged else "-"


if __name__ == "__main__":
    sys.exit(main())
