"""Which email addresses the app can send to, and, for one it cannot, why in words.

Django's `EmailValidator` accepts an internationalised domain (`lea@bücher.de`: the SMTP
backend sends it as IDNA, `xn--bcher-kva.de`) and refuses a local part with letters
outside ASCII (`léa@example.org`). Its SMTP backend refuses such a local part too, as do
mail servers without SMTPUTF8. So an address like that is a fact about a person worth
keeping, but never a recipient: `sendable` is the one test, used by the contact form,
the import and the outbox itself.
"""

from __future__ import annotations

from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# What the database holds in a sendable address column: printable ASCII before the last
# "@" (a CheckConstraint on Contact.email uses it, so no writer can bypass the rule).
SENDABLE_PATTERN = r"^[!-~]+@[^@]+$"


def _valid(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


@lru_cache(maxsize=8192)  # the outbox asks for every message; recipients repeat, validating costs ~40 µs
def sendable(address: str) -> bool:
    """An address our mail system can deliver to: a valid address with an ASCII local part."""
    return bool(address) and address.rpartition("@")[0].isascii() and _valid(address)


def unusable_reason(address: str) -> str:
    """Why `address` cannot receive our email, as a clause for its owner ("" when it can).

    "the part before the @ has letters (é) that mail servers refuse" reads after
    “léa@example.org” can't receive email: …
    """
    address = address.strip()
    if not address:
        return "there is no address"
    if sendable(address):
        return ""
    if "@" not in address:
        return "it has no @, so it is not an email address"
    if any(c.isspace() for c in address):
        return "it has a space in it"
    if is_international_local_part(address):
        local = address.rpartition("@")[0]
        letters = "".join(dict.fromkeys(c for c in local if not c.isascii()))
        return f"the part before the @ has letters ({', '.join(letters)}) that mail servers refuse"
    return "it is not a complete email address (like name@example.org)"


def is_international_local_part(address: str) -> bool:
    """A real address whose only fault is a non-ASCII local part (kept as data, never sent to)."""
    local, at, domain = address.strip().rpartition("@")
    if not (at and local) or local.isascii():
        return False
    # The same address with each such letter as an ASCII one must be valid.
    return _valid("".join(c if c.isascii() else "a" for c in local) + "@" + domain)
