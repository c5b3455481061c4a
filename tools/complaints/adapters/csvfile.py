"""The one way the tool writes CSV: for people, who open it in a spreadsheet.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (OWASP "CSV injection"); labels in a CSV come from policy.yml and other
files anyone can propose a change to. Such a text cell is written with a leading apostrophe,
which spreadsheets show as plain text. Numbers stay numbers: an int or float, or a text that
is a plain decimal number such as ``-3`` or ``+1.5``, is written as it is.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")

Cell = str | int | float | None


def safe_cell(value: Cell) -> str | int | float:
    """``value`` as a cell no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    if text.startswith(FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]], *, lineterminator: str = "\r\n", bom: bool = False) -> str:
    """A whole CSV document: the header, then one line per row, every cell made safe."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=lineterminator)
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return ("\ufeff" if bom else "") + buf.getvalue()
