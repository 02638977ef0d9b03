# syntax=docker/dockerfile:1
# Build stage: install the package and its dependencies into a virtualenv.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY scheduler ./scheduler
RUN pip install --no-cache-dir .

# Runtime stage: the virtualenv, the content folder and a non-root user; no build tools.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 coach
COPY --from=build /opt/venv /opt/venv
COPY content /app/content
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    COACH_CONTENT_DIR=/app/content \
    COACH_DATABASE_URL=sqlite+aiosqlite:////data/corecoach.db
RUN mkdir /data && chown coach:coach /data
VOLUME ["/data"]
USER coach
WORKDIR /app
ENTRYPOINT ["corecoach"]
CMD ["run"]
