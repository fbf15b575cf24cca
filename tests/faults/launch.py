"""Run `celery` (worker or beat) with test controls, as its own process:

    python -m tests.faults.launch [--clock REDIS_URL KEY] [--barrier REDIS_URL KEY N] -- <celery arguments>

--clock    the process's wall clock (time-machine, ticking) starts at the ISO datetime stored
           at KEY and jumps whenever the test stores another; the process acknowledges each
           moment in the hash KEY:ack (field: its pid), so the test knows it took effect.
--barrier  the first `followups.tasks.sweep_due` this worker runs waits until N workers have
           reached it, so that N sweeps really start together.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
import time


def _clock(url: str, key: str) -> None:
    import redis
    import time_machine

    r = redis.Redis.from_url(url)
    current = r.get(key)
    if current is None:
        raise SystemExit(f"launch: no clock at {key}")
    traveller = time_machine.travel(dt.datetime.fromisoformat(current.decode()), tick=True).start()
    r.hset(f"{key}:ack", str(os.getpid()), current)

    def follow() -> None:
        nonlocal current
        while True:
            wanted = r.get(key)
            if wanted is not None and wanted != current:
                traveller.move_to(dt.datetime.fromisoformat(wanted.decode()))
                current = wanted
                r.hset(f"{key}:ack", str(os.getpid()), current)
            time.sleep(0.02)

    threading.Thread(target=follow, daemon=True, name="test-clock").start()


def _barrier(url: str, key: str, parties: int) -> None:
    import redis
    from celery.signals import task_prerun

    r = redis.Redis.from_url(url)
    passed = False

    @task_prerun.connect(weak=False)
    def wait_for_the_others(sender=None, **kwargs) -> None:
        nonlocal passed
        if passed or getattr(sender, "name", "") != "followups.tasks.sweep_due":
            return
        passed = True
        r.incr(key)
        deadline = time.monotonic() + 30
        while int(r.get(key) or 0) < parties and time.monotonic() < deadline:
            time.sleep(0.005)
        print(f"launch: barrier {key} passed with {int(r.get(key) or 0)} of {parties}", flush=True)


def main(argv: list[str]) -> None:
    split = argv.index("--")
    options, celery_args = argv[:split], argv[split + 1 :]
    while options:
        flag = options.pop(0)
        if flag == "--clock":
            _clock(options.pop(0), options.pop(0))
        elif flag == "--barrier":
            _barrier(options.pop(0), options.pop(0), int(options.pop(0)))
        else:
            raise SystemExit(f"launch: unknown option {flag}")
    from celery.__main__ import main as celery_main

    sys.argv = ["celery", *celery_args]
    celery_main()


if __name__ == "__main__":
    main(sys.argv[1:])
