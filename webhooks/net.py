"""Posting to a subscriber's URL without letting it reach inside our network (SSRF).

The URL is checked when the endpoint is saved, and again on every attempt: its host is
resolved, *every* address it resolves to must be public (not private, loopback, link-local,
shared, reserved or multicast; `WEBHOOK_ALLOW_PRIVATE_ADDRESSES` lifts that), and the
connection is then made to the address that was checked — the TLS name and the `Host` header
stay the URL's host — so a second lookup cannot answer differently (DNS rebinding). Redirects
are not followed: a 3xx is an answer like any other that is not 2xx.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

USER_AGENT = "Warm-Intros-Webhooks/1"
# Of the answer we keep nothing but its status; we read at most this much of it, then hang up.
MAX_ANSWER_BYTES = 64 * 1024


class Refused(ValueError):
    """The URL may not be posted to; the message is for the person who gave it."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query


@dataclass(frozen=True)
class Answer:
    status: int
    duration_ms: int


def parse(url: str) -> Target:
    """The URL's parts, if its form may be posted to (no look-up yet)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused("This is not a web address we can post to.") from None
    if parts.scheme not in ("https", "http"):
        raise Refused("The address must start with https://.")
    if parts.scheme == "http" and settings.WEBHOOK_REQUIRE_HTTPS:
        raise Refused("The address must start with https:// (events are sent encrypted only).")
    if not parts.hostname:
        raise Refused("The address has no server name.")
    if parts.username or parts.password:
        raise Refused("Leave the user name and password out of the address; check the signature instead.")
    if parts.fragment:
        raise Refused("Leave the part after # out of the address.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path)


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (a separate function, so tests can stand in for DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def why_not_public(address: str) -> str | None:
    """Why an address is refused, or None when it is a public one."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address (this machine)"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private network address"
    if ip.is_multicast or not ip.is_global:
        return "an address that is not on the public internet"
    return None


def checked_addresses(target: Target) -> list[str]:
    """The host's addresses, every one of them allowed; refused if any is not."""
    try:
        ipaddress.ip_address(target.host)
        addresses = [target.host]
    except ValueError:
        try:
            addresses = resolve(target.host, target.port)
        except (OSError, UnicodeError, ValueError):  # no such name; a name no resolver takes
            raise Refused(f"We could not find the server “{target.host}”.") from None
    if not addresses:
        raise Refused(f"We could not find the server “{target.host}”.")
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            if reason := why_not_public(address):
                raise Refused(f"“{target.host}” leads to {reason} ({address}); events go only to public servers.")
    return addresses


def check(url: str) -> Target:
    """For a form: the URL as it would be posted to, or Refused with the reason."""
    target = parse(url)
    checked_addresses(target)
    return target


def _connection(target: Target, address: str, timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def pinned(_address, timeout=timeout, source_address=None):
        # The checked address, not a second look-up of the host; TLS still checks the host's name.
        return socket.create_connection((address, target.port), timeout, source_address)

    connection._create_connection = pinned
    return connection


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url` through a checked address; the answer's status (any, even 5xx).
    Raises Refused (not allowed) or OSError / http.client.HTTPException (no answer)."""
    target = parse(url)
    addresses = checked_addresses(target)
    timeout = settings.WEBHOOK_TIMEOUT
    started = time.monotonic()
    last_error: OSError | None = None
    for address in addresses:
        connection = _connection(target, address, timeout)
        try:
            connection.connect()
        except (ConnectionError, TimeoutError) as exc:
            connection.close()
            last_error = exc
            continue  # the next of the host's (checked) addresses
        try:
            connection.request(
                "POST",
                target.path,
                body=body,
                headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
            )
            response = connection.getresponse()
            response.read(MAX_ANSWER_BYTES)
            return Answer(response.status, int((time.monotonic() - started) * 1000))
        finally:
            connection.close()
    assert last_error is not None
    raise last_error
