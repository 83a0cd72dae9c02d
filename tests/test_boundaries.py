"""The layering rule: dialogs, nlu, storage and scheduler never import transport libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INNER_PACKAGES = ("dialogs", "nlu", "storage", "scheduler")
FORBIDDEN = ("bot", "wechatpy", "aiogram")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", INNER_PACKAGES)
def test_inner_layers_never_import_transport(package: str) -> None:
    files = list((ROOT / package).rglob("*.py"))
    assert files, f"{package} has no modules"
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert offenders == []


def test_the_checker_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom bot.app import create_app\nimport aiogram.types\n")
    assert {"bot.app", "aiogram.types"} <= imported_modules(bad)


def test_wecom_sdk_appears_only_in_bot() -> None:
    """Issue 17: wechatpy.enterprise (WeCom crypto, parsing, client) is a transport detail of bot/."""
    def users(package: str) -> list[str]:
        return [str(path.relative_to(ROOT)) for path in (ROOT / package).rglob("*.py")
                if any(name.startswith("wechatpy.enterprise") for name in imported_modules(path))]

    assert users("bot"), "bot/wecom no longer uses wechatpy.enterprise: this test checks nothing"
    for package in INNER_PACKAGES:
        assert users(package) == [], package
