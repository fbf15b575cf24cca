"""Cells a spreadsheet opens safely: the one formula neutraliser for every CSV we write
(the contacts export, the coach's dashboard exports, the import's report)."""

from __future__ import annotations

import re

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEUTRALISED = re.compile(r"^'+[=+\-@\t\r]")


def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe.

    A cell that already starts with apostrophes before such a character gets one
    more, so that `unneutralise` (which removes exactly one) gives back the original.
    """
    if value.startswith(FORMULA_START) or (value.startswith("'") and _NEUTRALISED.match(value)):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    return value[1:] if _NEUTRALISED.match(value) else value
