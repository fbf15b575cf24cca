"""What changed in a text, word by word, for the connector who sent a request back: the words
removed and the words added, with the rest as it was (difflib, rendered on the server)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

# Words with the spaces after them, so that a change keeps the text's own spacing and lines.
_TOKENS = re.compile(r"\S+\s*|\s+")

Kind = Literal["same", "removed", "added"]


@dataclass(frozen=True)
class Piece:
    kind: Kind
    text: str


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    before: str
    after: str
    pieces: tuple[Piece, ...]

    @property
    def changed(self) -> bool:
        return any(p.kind != "same" for p in self.pieces)

    @property
    def words_removed(self) -> int:
        return sum(len(p.text.split()) for p in self.pieces if p.kind == "removed")

    @property
    def words_added(self) -> int:
        return sum(len(p.text.split()) for p in self.pieces if p.kind == "added")

    @property
    def summary(self) -> str:
        """ "3 words removed, 4 added", "8 words added": the size of the change, in words."""
        removed, added = self.words_removed, self.words_added
        parts = []
        if removed:
            parts.append(f"{removed} word{'s' if removed != 1 else ''} removed")
        if added:
            parts.append(f"{added} added" if parts else f"{added} word{'s' if added != 1 else ''} added")
        return ", ".join(parts)


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text.replace("\r\n", "\n"))


def word_diff(before: str, after: str) -> tuple[Piece, ...]:
    """`after` told against `before`: runs of unchanged, removed and added words, in order (a
    replaced run is its removed words, then its added ones). Comparing words, not spacing."""
    old, new = _tokens(before or ""), _tokens(after or "")
    matcher = SequenceMatcher(a=[t.strip() for t in old], b=[t.strip() for t in new], autojunk=False)
    pieces: list[Piece] = []

    def put(kind: Kind, text: str) -> None:
        if not text:
            return
        if pieces and pieces[-1].kind == kind:
            pieces[-1] = Piece(kind, pieces[-1].text + text)
        else:
            pieces.append(Piece(kind, text))

    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            put("same", "".join(new[b1:b2]))
            continue
        if op in ("delete", "replace"):
            put("removed", "".join(old[a1:a2]))
        if op in ("insert", "replace"):
            put("added", "".join(new[b1:b2]))
    return tuple(pieces)


def field_change(*, name: str, label: str, before: str, after: str) -> FieldChange:
    return FieldChange(name=name, label=label, before=before or "", after=after or "", pieces=word_diff(before, after))
