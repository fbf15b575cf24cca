# Warm Intros: one image for web (gunicorn), Celery worker and Celery beat.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/opt/venv/bin:$PATH \
    WARM_VAR_DIR=/app/var

# uv from PyPI, pinned to the version that wrote uv.lock.
RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /app

# Dependencies first, in their own layer: only a change to the lock file rebuilds it.
COPY pyproject.toml uv.lock .python-version ./
RUN uv sync --frozen --no-dev --no-cache

COPY . .

# Static files are hashed and compressed once, at build time. The secret is a throwaway:
# collectstatic needs settings to load, and nothing here is signed with it.
RUN DJANGO_DEBUG=false \
    DJANGO_SECRET_KEY=collectstatic-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz \
    DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --no-input

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin warm \
    && mkdir -p /app/var/exports \
    && chown -R warm:warm /app/var
USER warm

EXPOSE 8000
# config/gunicorn.py: threaded workers; WEB_CONCURRENCY processes × GUNICORN_THREADS threads.
CMD ["gunicorn", "--config", "python:config.gunicorn", "--access-logfile", "-"]
