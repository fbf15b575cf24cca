"""Search that finds people as they are written: one normalisation, the search key, for
every text search in the app ("lopez" finds "López", "MULLER" finds "Müller", "sao paulo"
finds "São Paulo", and the other way round).

The key of a text is the text casefolded (so "ß" is "ss"), decomposed (NFKD: "é" is "e" and
a combining accent, "ﬁ" is "fi", a full-width "Ａ" is "A"), without its combining marks,
with the Latin letters that Unicode does not decompose written as their base letters (ø o,
ł l, đ/ð d, ħ h, ŧ t, ı i, æ ae, œ oe, þ th), curly apostrophes and the hyphen characters
as their ASCII forms, control characters (NUL among them, which PostgreSQL refuses) as
spaces, and runs of whitespace as one space. It knows nothing of languages: "Müller" and
"Muller" meet, "Mueller" stays apart.

The key is computed in Python, for the words searched for and for the data: a model keeps
the keys of its searchable fields in columns of its own, written with the fields (see
`contacts.models.Contact`), and a search is `key_column__contains=search_key(words)`. That
works the same on PostgreSQL and SQLite, and costs a query no more than a plain `LIKE`.
Changing this function changes what is stored: recompute the stored keys in a migration.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD leaves whole, after casefolding, and marks with more than one spelling.
_FOLD = {
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "ħ": "h",
    "ŧ": "t",
    "ı": "i",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    "\u2018": "'",  # ‘
    "\u2019": "'",  # ’ (O’Brien)
    "\u02bc": "'",  # ʼ
    "\u2010": "-",  # the hyphen characters (Jean‐Pierre)
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
}
# (Regular expressions rather than str.translate, which costs ten times as much per call.)
_FOLD_RE = re.compile("[" + "".join(_FOLD) + "]")
# The control characters (Unicode's Cc: a NUL, a tab) separate words, as spaces do.
_CONTROLS_RE = re.compile("[\x00-\x1f\x7f-\x9f]")


def _without_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_key(text: str) -> str:
    """`text` as searches compare it: "  São  PAULO " -> "sao paulo", "Øre" -> "ore"."""
    if text.isascii():  # most names and addresses: nothing to decompose
        folded = text.lower()
    else:
        # Casefolding can itself produce a letter and a mark ("İ" -> "i̇"), and compatibility
        # forms can be upper case ("ℌ" -> "H"): marks are dropped on both sides of it.
        folded = _without_marks(_without_marks(text).casefold())
        folded = _FOLD_RE.sub(lambda found: _FOLD[found.group()], folded)
    if not folded.isprintable():
        folded = _CONTROLS_RE.sub(" ", folded)
    return " ".join(folded.split())


def key_contains(text: str, wanted_key: str) -> bool:
    """Whether `text` matches a search whose key is `wanted_key` (for rows already in memory)."""
    return wanted_key in search_key(text)
