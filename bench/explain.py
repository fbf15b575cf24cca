"""Look again at pages of the last run's data, without generating it again:

    python -m bench.explain KEY [KEY ...]       # EXPLAIN ANALYZE of each query, then a cProfile

KEY is a page key from bench/pages.py (home, intro, inbox, contacts, contact_search,
dashboard, find, followups, ics). It uses `<BENCH_DB_NAME>` as the last `make bench` (of
BENCH_SCALE) left it and the dataset that run wrote under bench/results/.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

from . import config


def main(keys: list[str]) -> None:
    results_dir = Path(os.environ.get("BENCH_RESULTS_DIR") or Path(__file__).parent / "results")
    scale = config.scale()
    saved = json.loads((results_dir / f"dataset-{scale.name}.json").read_text())
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = config.database_url(config.db_name())
    config.use_cache(os.environ)
    import django

    django.setup()
    from . import pages
    from .data import Dataset

    saved["now"] = dt.datetime.fromisoformat(saved["now"])
    ds = Dataset(**saved)
    for key in keys:
        print(pages.explain(ds, key))
        print(pages.profile(ds, key))


if __name__ == "__main__":
    main(sys.argv[1:])
