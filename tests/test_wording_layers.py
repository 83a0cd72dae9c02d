"""Wording by audience (issue 17): the domain returns outcomes, not sentences.

Owner text lives in dialogs/, merchant and staff text in bot/. A Chinese sentence in storage/ or
scheduler/ is a defect. Data is fine: service names, enum labels used for matching, short labels;
docstrings and comments are not scanned.

Every storage and scheduler module is clean (the DEBT list that tracked the move is gone), and no
storage module imports dialogs/ (storage may not reach up for its words).
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
        found = sentences(path)
        if found:
            problems.append(f"{path.relative_to(ROOT)}: {len(found)} sentences:\n  " + "\n  ".join(found))
    assert not problems, "return an outcome and word it in dialogs/ (owners) or bot/wording/ (merchants, staff):\n" \
        + "\n".join(problems)


def test_storage_never_imports_dialogs() -> None:
    """Storage decides what to tell whom; the words come from its callers (workflow_texts, bot/wording)."""
    offenders = {str(p.relative_to(ROOT)) for p in _modules("storage")
                 if any(m == "dialogs" or m.startswith("dialogs.") for m in imported_modules(p))}
    assert not offenders, offenders
