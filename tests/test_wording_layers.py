"""Wording by audience (issue 17): the domain returns outcomes, not sentences.

Owner text lives in dialogs/, merchant and staff text in bot/. A Chinese sentence in storage/ or
scheduler/ is a defect. Data is fine: service names, enum labels used for matching, short labels;
docstrings and comments are not scanned.

The move is not finished: DEBT lists the storage modules that still build sentences, with how many
each holds today. The count may only go down (lower it when you move one out), a module not listed
must stay clean, and no storage module imports dialogs/ (storage may not reach up for its words).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.test_boundaries import imported_modules

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u3400-\u9fff]")
# A sentence: Chinese followed, on the same line, by sentence punctuation; or a long Chinese run.
SENTENCE = re.compile(r"[\u3400-\u9fff][^\n]*[。！？；，：]|[。！？]")
LONG = 12  # CJK characters in one literal beyond which it is prose, not a label

# Modules still holding sentences (module -> literals found on 2026-12-01). Only ever lower these.
DEBT: dict[str, int] = {
    "storage/amounts.py": 4,
    "storage/dispatch.py": 7,
}
# Data, not prose: the first migration's seed (service names, FAQ answers), and the redaction
# lexicon (surnames, honorifics, cue words inside regular expressions).
SKIP = ("storage/migrations/", "storage/privacy.py")


def sentences(path: Path) -> list[str]:
    """Chinese string literals in a module that read as sentences (docstrings excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = {
        id(node.body[0].value) for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value
            if CJK.search(text) and (SENTENCE.search(text) or len(CJK.findall(text)) > LONG):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text[:40]!r}")
    return found


def _modules(package: str) -> list[Path]:
    return [p for p in sorted((ROOT / package).rglob("*.py"))
            if not str(p.relative_to(ROOT)).startswith(SKIP)]


def test_the_scan_sees_sentences() -> None:
    assert sentences(ROOT / "dialogs" / "texts.py")  # owner wording lives there, so the scan must find it


@pytest.mark.parametrize("package", ["storage", "scheduler"])
def test_no_chinese_sentence_in_the_domain(package: str) -> None:
    problems = []
    for path in _modules(package):
        rel = str(path.relative_to(ROOT))
        found = sentences(path)
        allowed = DEBT.get(rel, 0)
        if len(found) > allowed:
            problems.append(f"{rel}: {len(found)} sentences (allowed {allowed}):\n  " + "\n  ".join(found))
    assert not problems, "return an outcome and word it in dialogs/ (owners) or bot/wording/ (merchants, staff):\n" \
        + "\n".join(problems)


def test_the_debt_list_is_current() -> None:
    """A module that got cleaner lowers its entry, so the ratchet keeps holding."""
    stale = {rel: (n, len(sentences(ROOT / rel))) for rel, n in DEBT.items() if len(sentences(ROOT / rel)) < n}
    assert not stale, f"lower DEBT to the new counts: {stale}"


def test_storage_never_imports_dialogs() -> None:
    """Storage decides what to tell whom; the words come from its callers (workflow_texts, bot/wording)."""
    offenders = {str(p.relative_to(ROOT)) for p in _modules("storage")
                 if any(m == "dialogs" or m.startswith("dialogs.") for m in imported_modules(p))}
    assert not offenders, offenders
