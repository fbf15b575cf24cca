"""Hypothesis strategies that turn a genuine signed token into something that must be refused."""

from __future__ import annotations

import string

from django.core import signing
from hypothesis import strategies as st

ALPHABET = string.ascii_letters + string.digits + "-_:.=+/%~" + "\x00\u202e\u00e9"


def _flip(token: str, draw) -> str:
    i = draw(st.integers(0, len(token) - 1))
    new = draw(st.sampled_from(ALPHABET).filter(lambda c: c != token[i]))
    return token[:i] + new + token[i + 1 :]


def _insert(token: str, draw) -> str:
    i = draw(st.integers(0, len(token)))
    return token[:i] + draw(st.text(ALPHABET, min_size=1, max_size=4)) + token[i:]


def _delete(token: str, draw) -> str:
    i = draw(st.integers(0, len(token) - 1))
    n = draw(st.integers(1, 4))
    return token[:i] + token[i + n :]


def _swap_segments(token: str, draw) -> str:
    parts = token.split(":")
    order = draw(st.permutations(range(len(parts))))
    dup = draw(st.booleans())
    swapped = [parts[i] for i in order]
    if dup:
        swapped.insert(draw(st.integers(0, len(swapped))), draw(st.sampled_from(parts)))
    return ":".join(swapped)


def _swap_chars(token: str, draw) -> str:
    i = draw(st.integers(0, len(token) - 2))
    return token[:i] + token[i + 1] + token[i] + token[i + 2 :]


def _case(token: str, draw) -> str:
    i = draw(st.integers(0, len(token) - 1))
    return token[:i] + token[i].swapcase() + token[i + 1 :]


def _truncate(token: str, draw) -> str:
    return token[: draw(st.integers(0, len(token) - 1))]


MUTATORS = [_flip, _insert, _delete, _swap_segments, _swap_chars, _case, _truncate]


@st.composite
def mutated(draw, token: str, payload: dict, salt: str, other_payloads: list[dict], compress: bool = False):
    """A token that is not `token`: changed characters, re-signed with the wrong salt or key,
    or signed properly (the real key) over a payload naming another object or a wrong nonce."""
    kind = draw(st.sampled_from(["chars", "chars", "chars", "salt", "key", "payload"]))
    if kind == "chars":
        result = token
        for _ in range(draw(st.integers(1, 3))):
            result = draw(st.sampled_from(MUTATORS))(result, draw) if len(result) >= 2 else result + "x"
    elif kind == "salt":
        wrong_salt = draw(st.text(min_size=0, max_size=30).filter(lambda s: s != salt))
        result = signing.dumps(payload, salt=wrong_salt, compress=compress)
    elif kind == "key":
        key = draw(st.text(string.printable, min_size=1, max_size=60))
        result = signing.dumps(payload, key="not-the-key-" + key, salt=salt, compress=compress)
    else:
        # The real key: only a payload naming this very object, with its own nonce, may pass.
        forged = draw(
            st.one_of(
                st.sampled_from(other_payloads),
                st.fixed_dictionaries({k: st.just(v) for k, v in payload.items()}).map(
                    lambda p: {**p, "n": p["n"][:-1] + ("A" if p["n"][-1] != "A" else "B")}
                ),
                st.dictionaries(
                    st.sampled_from(["l", "i", "n", "x"]),
                    st.one_of(st.integers(-5, 10**6), st.text(max_size=20), st.none(), st.booleans()),
                    max_size=3,
                ),
                st.lists(st.integers(), max_size=3),
                st.text(max_size=20),
            )
        )
        result = signing.dumps(forged, salt=salt, compress=compress)
    if result == token:
        result = token + "x"
    return result
