"""docs/deployment.md states what holds under each fault in the words the fault tests check:
every fault test is in its table, and those that count losses and duplicates say "0 lost, 0
duplicated" there (and the test asserts exactly that)."""

from __future__ import annotations

from pathlib import Path

FAULTS = Path(__file__).resolve().parent
DOC = (FAULTS.parents[1] / "docs" / "deployment.md").read_text(encoding="utf-8")
TABLE = DOC.split("## How it fails")[1].split("\n## ")[0]


def test_every_fault_test_is_documented_with_what_it_asserts() -> None:
    tests = sorted(p for p in FAULTS.glob("test_*.py") if p.name != Path(__file__).name)
    missing = [p.name for p in tests if f"`{p.name}`" not in TABLE]
    assert not missing, f"fault tests not in docs/deployment.md: {missing}"
    for path in tests:
        source = path.read_text(encoding="utf-8")
        counts = "(len(lost), len(duplicated)) == (0, 0)" in source or "(lost, duplicated) == (0, 0)" in source
        row = next(line for line in TABLE.splitlines() if f"`{path.name}`" in line)
        if counts:
            assert "0 lost, 0 duplicated" in row or "once each" in row, path.name
