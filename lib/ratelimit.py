"""Rate limits, counted in the shared cache (Redis in production, so every web process
counts together).

A fixed window per limit: the key names the window (`now // seconds`), `cache.add` creates
its counter with a timeout a little past the window's end, and `cache.incr` counts
atomically (Redis INCR). A new window is a new key, so nothing has to be reset; old keys
expire on their own. A fixed window lets a burst of twice the count straddle a boundary;
for these limits (slowing guessing and spam, not metering) that is an acceptable price
for one round trip pair per check.

Who is counted is passed through a keyed hash, so no email address or IP sits in the
cache's keys. Each limit's count and window come from `settings.RATE_LIMITS` (README,
"Configuration"); the key prefix from `settings.RATE_LIMIT_KEY_PREFIX`.

When a limit is hit the view answers 429 with the page it would have shown, the form
still holding what was typed, a message saying what happened and when to try again, and
`Retry-After`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import BaseCache, caches
from django.forms import Form
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

# A counter outlives its window by this much, so it cannot expire between `add` and `incr`.
_GRACE_SECONDS = 60


@dataclass(frozen=True)
class Blocked:
    """A refused attempt: what to tell the person, and in how many seconds to try again."""

    message: str
    retry_after: int


# The salts keep the module's old name (it lived in accounts/): they are part of every counter's
# key in the cache and of every known-device cookie browsers hold, and a new salt would forget
# both: counts under way and every device that has logged in before.
_KEY_SALT = "accounts.ratelimit"


@dataclass(frozen=True)
class Limit:
    name: str  # the key in settings.RATE_LIMITS
    # What happened, for the person: "{wait}" becomes "in 12 minutes", "{allowed}" the count,
    # "{per}" the window ("per day"), "{remaining}" what is left in it.
    message: str

    @property
    def rate(self) -> tuple[int, int]:
        return settings.RATE_LIMITS[self.name]

    def _key(self, who: str, window: int) -> str:
        digest = salted_hmac(_KEY_SALT, f"{self.name}:{who}", algorithm="sha256").hexdigest()[:32]
        return f"{settings.RATE_LIMIT_KEY_PREFIX}:{self.name}:{digest}:{window}"

    def hit(self, who: str, *, cost: int = 1, cache: BaseCache | None = None) -> Blocked | None:
        """Count `cost` attempts by `who`; a refusal when that goes past the limit.

        A refused attempt of more than one (a batch of invitations) is given back, so
        what the person may still do is not used up by what they were refused.
        """
        cache = cache or caches["default"]
        allowed, seconds = self.rate
        now = time.time()
        window = int(now // seconds)
        key = self._key(who, window)
        ends_in = (window + 1) * seconds - now
        timeout = math.ceil(ends_in) + _GRACE_SECONDS
        cache.add(key, 0, timeout=timeout)
        try:
            count = _incr(cache, key, cost, timeout)
        except ValueError:  # evicted between the two calls: start again from this attempt
            cache.add(key, cost, timeout=timeout)
            count = cost
        if count <= allowed:
            return None
        if cost > 1:
            # The counter may be gone (evicted, or the cache unreachable): then there is nothing to give back.
            with contextlib.suppress(ValueError):
                _incr(cache, key, -cost, timeout)
        message = self.message.format(
            wait=_in(ends_in), allowed=allowed, per=_per(seconds), remaining=max(0, allowed - (count - cost))
        )
        return Blocked(message, retry_after=max(1, math.ceil(ends_in)))

    def give_back(self, who: str, *, cost: int = 1, cache: BaseCache | None = None) -> None:
        """Uncount attempts that turned out not to be the kind limited (a log-in that succeeded)."""
        cache = cache or caches["default"]
        seconds = self.rate[1]
        now = time.time()
        window = int(now // seconds)
        timeout = math.ceil((window + 1) * seconds - now) + _GRACE_SECONDS
        with contextlib.suppress(ValueError):  # gone already: nothing to give back
            _incr(cache, self._key(who, window), -cost, timeout)

    def reset(self, who: str, *, cache: BaseCache | None = None) -> None:
        """Forget what `who` has used in the current window."""
        cache = cache or caches["default"]
        cache.delete(self._key(who, int(time.time() // self.rate[1])))

    def count(self, who: str, *, cache: BaseCache | None = None) -> int:
        """Attempts counted for `who` in the current window."""
        cache = cache or caches["default"]
        seconds = self.rate[1]
        return cache.get(self._key(who, int(time.time() // seconds)), 0)

    def remaining(self, who: str, *, cache: BaseCache | None = None) -> int:
        return max(0, self.rate[0] - self.count(who, cache=cache))


def _incr(cache: BaseCache, key: str, delta: int, timeout: int) -> int:
    """Redis and local memory count atomically and keep the key's timeout. A backend without
    an `incr` of its own (files, the embedded default) would read, add and write the value
    back with the default timeout: there the timeout is given again (and two processes can
    still race for a count, as they always could there)."""
    if type(cache).incr is not BaseCache.incr:
        value = cache.incr(key, delta)
        if value is None:  # django-redis with IGNORE_EXCEPTIONS: Redis is unreachable
            raise ValueError(f"Key {key!r} not counted: the cache is unreachable.")
        return value
    value = cache.get(key)
    if value is None:
        raise ValueError(f"Key {key!r} not found.")
    cache.set(key, value + delta, timeout=timeout)
    return value + delta


LOGIN_CLIENT = Limit(
    "login_client",
    "Too many wrong passwords for this email address from here. For your safety, try again {wait}, "
    "or reset your password.",
)
LOGIN_EMAIL = Limit(
    "login_email",
    "Too many wrong passwords for this email address from several places. For your safety, only a device "
    "that has logged in with it before can log in for now: try again here {wait}, or reset your password.",
)
LOGIN_IP = Limit("login_ip", "Too many wrong passwords from your network. For your safety, try again {wait}.")
PASSWORD_RESET_IP = Limit(
    "password_reset_ip", "Too many password reset requests from your network. Please try again {wait}."
)
PASSWORD_RESET_EMAIL = Limit(
    "password_reset_email",
    "We have already sent several reset links to this address. Check your inbox (and spam folder), "
    "or ask for a new link {wait}.",
)
TARGET_ANSWER = Limit(
    "target_answer", "Too many answers were sent from this link. Nothing was changed; please try again {wait}."
)
INTRO_REQUEST = Limit(
    "intro_request",
    "You have started or submitted many introduction requests in a short time. "
    "Nothing was sent; please try again {wait}.",
)
DATA_EXPORT = Limit(
    "data_export",
    "You have asked for your data as often as we prepare it ({allowed} {per}). "
    "A file already prepared stays here while it is kept; you can ask for a new one {wait}.",
)
INVITATION = Limit(
    "invitation",
    "A coach can send {allowed} invitations {per}, and {remaining} more can go out now. "
    "Nothing was sent: invite fewer people, or try again {wait}.",
)

IMPORT_UPLOAD = Limit(
    "import_upload",
    "You have uploaded {allowed} contact files {per}, the most we read in that time. "
    "Nothing was uploaded; please choose your file again {wait}.",
)
WEBHOOK_TEST = Limit(
    "webhook_test",
    "You have sent {allowed} test events {per}, the most we send. Nothing was sent; try again {wait}.",
)

API = Limit(
    "api",
    "You have made {allowed} API requests {per}, the most we answer in that time. Try again {wait}.",
)


def _in(seconds: float) -> str:
    """ "in 12 minutes": how long until the window ends, rounded up."""
    if seconds <= 60:
        return "in a minute"
    minutes = math.ceil(seconds / 60)
    if minutes == 60:
        return "in an hour"
    if minutes < 120:
        return f"in {minutes} minutes"
    return f"in {math.ceil(minutes / 60)} hours"


def _per(seconds: int) -> str:
    named = {60: "per minute", 3600: "per hour", 86400: "per day", 604800: "per week"}
    if seconds in named:
        return named[seconds]
    if seconds % 3600 == 0:
        return f"every {seconds // 3600} hours"
    if seconds % 60 == 0:
        return f"every {seconds // 60} minutes"
    return f"every {seconds} seconds"


def client_ip(request: HttpRequest) -> str:
    """The address to count by. Behind our own proxy (`DJANGO_BEHIND_PROXY`) every request
    comes from the proxy, so the client is the last address it added to X-Forwarded-For.
    IPv6 is counted per /64, the block one household or server usually holds."""
    address = request.META.get("REMOTE_ADDR", "") or ""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            address = forwarded.split(",")[-1].strip()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def first_blocked(*results: Blocked | None) -> Blocked | None:
    """Of several limits hit by one attempt, the refusal that lasts longest."""
    refused = [r for r in results if r is not None]
    return max(refused, key=lambda r: r.retry_after) if refused else None


def unchecked(form: Form) -> Form:
    """A bound form shown as typed, without validating it: a refused attempt must not run
    the form's own checks (a log-in form would check the password)."""
    form._errors = ErrorDict()
    form.cleaned_data = {}
    return form


def show_on_form(form: Form, blocked: Blocked) -> Form:
    """The refusal as the bound form's only error, above what was typed."""
    unchecked(form)._errors["__all__"] = form.error_class(
        [blocked.message], error_class="nonfield", renderer=form.renderer
    )
    return form


def too_many(response: HttpResponse, blocked: Blocked) -> HttpResponse:
    """The page as rendered, answered as 429 with when to come back."""
    response.status_code = 429
    response["Retry-After"] = str(blocked.retry_after)
    return response


# --- log in ------------------------------------------------------------------------------------
# Only wrong passwords count, and a guesser must not lock the owner out. Each try for an
# address is counted per client: the browser's "known device" cookie when it has logged in
# with that address before, otherwise the network. A known device is counted on its own
# (LOGIN_CLIENT) and nothing else, so no one elsewhere can use up its tries. Any other client
# is counted per (address, network), per address across all networks (a guesser spread over
# many), and per network across addresses (one network guessing many). A try is counted before
# the password is checked (so parallel tries cannot all slip under the limit) and given back
# when it succeeds; success also forgets that client's earlier wrong tries.

DEVICE_COOKIE = "known_device"
DEVICE_MAX_AGE = 365 * 86400
DEVICE_ADDRESSES = 5  # the addresses a shared computer remembers, most recent first
_DEVICE_SALT = "accounts.ratelimit.known-device"  # the module's old name, kept: see _KEY_SALT


def _address_tag(email: str) -> str:
    return salted_hmac(_DEVICE_SALT, email.strip().lower(), algorithm="sha256").hexdigest()[:24]


def _device(request: HttpRequest) -> tuple[str, list[str]] | None:
    """The signed cookie's device id and the tags of the addresses that logged in on it."""
    raw = request.COOKIES.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = signing.loads(raw, salt=_DEVICE_SALT, max_age=DEVICE_MAX_AGE)
    except signing.BadSignature:  # forged, damaged or older than a year
        return None
    if not isinstance(data, dict) or not isinstance(data.get("d"), str) or not isinstance(data.get("a"), list):
        return None
    return data["d"], [tag for tag in data["a"] if isinstance(tag, str)]


def remember_device(request: HttpRequest, response: HttpResponse, email: str) -> None:
    """After a successful log-in: this browser is a known device for `email` from now on."""
    known = _device(request)
    device_id = known[0] if known else secrets.token_urlsafe(18)
    tag = _address_tag(email)
    others = [t for t in (known[1] if known else []) if t != tag]
    value = signing.dumps({"d": device_id, "a": [tag, *others][:DEVICE_ADDRESSES]}, salt=_DEVICE_SALT)
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


@dataclass(frozen=True)
class LoginAttempt:
    """One password tried for `email` (lower case; empty when none was typed)."""

    email: str
    network: str
    device: str | None  # set only when this browser has logged in with `email` before

    @classmethod
    def of(cls, request: HttpRequest, email: str) -> LoginAttempt:
        email = email.strip().lower()
        known = _device(request)
        device = known[0] if known and email and _address_tag(email) in known[1] else None
        return cls(email=email, network=client_ip(request), device=device)

    def _counted_in(self) -> list[tuple[Limit, str]]:
        if not self.email:
            return [(LOGIN_IP, self.network)]
        if self.device:
            return [(LOGIN_CLIENT, f"{self.email} device:{self.device}")]
        return [
            (LOGIN_CLIENT, f"{self.email} network:{self.network}"),
            (LOGIN_EMAIL, self.email),
            (LOGIN_IP, self.network),
        ]

    def count(self) -> Blocked | None:
        """Count the try before the password is checked; a refusal when a limit is past."""
        return first_blocked(*(limit.hit(who) for limit, who in self._counted_in()))

    def succeeded(self) -> None:
        """The password was right: the try is given back, and this client's wrong ones forgotten."""
        for limit, who in self._counted_in():
            if limit is LOGIN_CLIENT:
                limit.reset(who)
            else:
                limit.give_back(who)
