"""The folders under WARM_VAR_DIR that the processes write to, made before any of them starts.

`make run` starts web, worker and beat together, in no particular order, and none of them may
depend on another having made a folder first: beat opens its schedule file at start and exits
when the folder is missing (the case on a fresh clone with DATABASE_URL set, where nothing
else has made `var/`). So `make run` calls this module once before honcho starts anything
(`python -m config.var`), and config.celery calls `prepare()` again as a worker or beat
configures itself, for a process started on its own.

Which folders depend on the settings: the filesystem broker's and the file cache's only in
the embedded default (no REDIS_URL), the SQLite database's only without DATABASE_URL, the mail folder only without EMAIL_URL.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

FILE_MAIL_BACKENDS = {"lib.mail.ConsoleAndFileBackend", "django.core.mail.backends.filebased.EmailBackend"}


def folders() -> list[Path]:
    """Every folder a process of `make run` writes to under the current settings, each once."""
    from django.conf import settings

    wanted: list[Path] = [
        Path(settings.VAR_DIR),
        Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent,  # beat's schedule
    ]
    for mailer in settings.MAILERS.values():
        if mailer.get("BACKEND") in FILE_MAIL_BACKENDS:
            wanted.append(Path(mailer["OPTIONS"]["file_path"]))
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        wanted.append(Path(database["NAME"]).parent)
    for cache in settings.CACHES.values():
        if cache["BACKEND"].endswith("filebased.FileBasedCache"):
            wanted.append(Path(cache["LOCATION"]))
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                wanted.append(Path(options[key]))
    return list(dict.fromkeys(wanted))


def prepare() -> list[Path]:
    """Make every folder (and its parents); safe to call from several processes at once."""
    made = folders()
    for folder in made:
        folder.mkdir(parents=True, exist_ok=True)
    return made


if __name__ == "__main__":
    for folder in prepare():
        print(f"  ready: {folder}")
