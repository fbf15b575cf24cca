"""The workflow layer: actions whose effects cross apps, above every domain app.

`workflows` may import every domain app (and `lib`); no domain app imports it, except their
entry points — views, Celery tasks, management commands and the beat's sweep — which call
its actions (tests/test_architecture.py). See docs/architecture.md.
"""
