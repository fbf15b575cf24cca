"""Container health check for the web service: is Django answering HTTP on port 8000?

Asks for the login page with the first allowed host (so ALLOWED_HOSTS does not answer 400)
and, as a TLS-terminating proxy would, X-Forwarded-Proto: https. Redirects are not
followed: a 3xx (an HTTPS redirect when not behind a proxy) still proves Django answers.
Exit 0 when healthy, 1 otherwise. Standard library only.
"""

from __future__ import annotations

import http.client
import os
import sys


def first_allowed_host() -> str:
    hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = hosts[0] if hosts else "localhost"
    if host == "*":
        return "localhost"
    return host.lstrip(".")  # ".example.com" allows example.com itself


def main() -> int:
    port = int(os.environ.get("PORT", "8000"))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(
            "GET",
            "/accounts/login/",
            headers={"Host": first_allowed_host(), "X-Forwarded-Proto": "https"},
        )
        status = conn.getresponse().status
    except OSError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    if status < 400:
        return 0
    print(f"unhealthy: HTTP {status}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
