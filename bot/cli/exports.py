"""Writing spreadsheets people open in Excel: no live formulas, files 0600 (issue 14).

A cell that starts with = + - @ (or a tab / carriage return that Excel strips first) is run as a
formula: an owner's survey answer `=HYPERLINK("http://…","点这里")` would become a live link in
the office's spreadsheet. Such text is prefixed with an apostrophe (OWASP's CSV-injection advice),
which Excel shows as plain text. Every such string is escaped, "-5.00" included (OWASP: a
sign-led "number" can still carry a formula after it); real numbers (int, Decimal) are not text
and pass unchanged, so XLSX amounts stay summable.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from storage.files import open_private, private_file

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value, with text that a spreadsheet would evaluate turned into plain text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    """safe_cell over a row."""
    return [safe_cell(v) for v in row]


def write_csv(path: Path, header: Sequence[Any], rows: Iterable[Iterable[Any]]) -> None:
    """A UTF-8-with-BOM CSV (Excel reads Chinese correctly only with it), escaped and 0600."""
    with open_private(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(safe_row(header))
        writer.writerows(safe_row(r) for r in rows)


def save_workbook(book: Any, path: Path) -> None:
    """openpyxl's save, into a file that is 0600 before anything is written."""
    private_file(path)
    book.save(path)
