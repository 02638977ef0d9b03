# Core Coach: `docker build -t corecoach .`, then see docker-compose.example.yml and the
# README's "Operations" section. Linted by hadolint in `make lint`.

# Build stage: the package and its dependencies in a virtualenv. The dependencies come from
# the lock (requirements.txt: exact versions with hashes, `make lock`), then the package alone
# with --no-deps, built by the lock's setuptools (--no-build-isolation), so nothing unpinned
# gets in. `make lock` checks that every pin has a wheel for linux/amd64 and arm64, so no
# compiler is needed here either.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# Before the sources: this layer is rebuilt only when the lock changes.
COPY requirements.txt ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.txt
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY handlers ./handlers
COPY scheduler ./scheduler
# The migrations travel inside the package (bot/storage/migrations, package data). -I: check
# the installed package, not ./bot beside it. pip check: the lock has all pyproject.toml asks
# for. pip and setuptools have done their work: not in the runtime image.
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && python -m pip check \
    && python -I -c "import bot.storage.db as d; assert (d.MIGRATIONS_DIR / 'env.py').is_file()" \
    && python -m pip uninstall --yes setuptools pip

# Runtime stage: the virtualenv, the content folder and a non-root user; nothing else.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    COACH_CONTENT_DIR=/app/content \
    COACH_DATA_DIR=/data \
    COACH_DATABASE_URL=sqlite+aiosqlite:////data/corecoach.db \
    COACH_HEALTH_HOST=0.0.0.0 \
    COACH_HEALTH_PORT=8080
RUN useradd --create-home --uid 10001 --user-group coach \
    && mkdir /data \
    && chown coach:coach /data
COPY --from=build /opt/venv /opt/venv
COPY content /app/content
USER 10001:10001
WORKDIR /app
# The SQLite file, progress charts and short-lived /export files.
VOLUME ["/data"]
EXPOSE 8080
# Slim images have no curl: ask /healthz with Python's own urllib (non-2xx raises).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('COACH_HEALTH_PORT', '8080'), timeout=4)"]
# `corecoach run` stops gracefully on SIGTERM (docker stop).
ENTRYPOINT ["corecoach"]
CMD ["run"]
