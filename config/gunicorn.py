"""gunicorn's settings wherever the app is served: the Dockerfile and docker-compose, the load
test (`make loadtest`) and the benchmark's HTTP section (`make bench`). Flags given on the
command line win over these.

Threaded workers (`gthread`), not gunicorn's default sync ones: a sync worker takes the oldest
connection off the queue and then waits on it until its request arrives, so a browser holding a
keep-alive connection open between two clicks, or a slow phone, stalls the worker while
requests that are ready wait behind it (measured in `make bench`: with 50 people on sync
workers, p50 211 ms for pages that take 10–26 ms). A gthread worker watches its connections and
hands one to a thread only when a request is in it, and keeps idle connections open for
`keepalive` seconds so the next click does not pay for a new connection.
"""

import os

wsgi_app = "config.wsgi"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
# WEB_CONCURRENCY processes (gunicorn reads it itself; 3 when unset, for two CPUs), each with
# GUNICORN_THREADS threads: a thread waiting on PostgreSQL lets another run. Each thread holds
# its own database connection (CONN_MAX_AGE), so processes × threads is the web's share of
# PostgreSQL's max_connections.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Longer than any client keeps an idle connection to reuse (nginx's upstream keepalive_timeout
# is 60 s; the load test's people pause up to 6 s), so the client is the side that closes an
# idle connection. Were gunicorn to close first, a request sent at that moment on the kept
# connection would get no answer: with 5 s here, `make loadtest` lost 2 of 16,172 requests so.
# An idle connection costs a file descriptor and a place in the worker's poller, not a thread.
keepalive = 75
timeout = 30
