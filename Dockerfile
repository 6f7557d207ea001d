# syntax=docker/dockerfile:1
# One image recipe for the four services and the web, chosen by the build argument APP
# (data, scheduling, goals, notify or web). Build from the repository root:
#   docker build --build-arg APP=notify -t aptt-notify .
#
# Stage "build" installs the app and its workspace packages (aptt-platform, aptt-contracts;
# for the web also its templates, static files and catalogues, which live in its package)
# from uv.lock into /app/.venv. The final stage copies only that virtual environment onto a
# clean slim Python: no uv, pip, compiler or package index in the image. It runs as an
# unprivileged user (UID 10001), writes nothing but /tmp (bytecode is compiled at build
# time), so Kubernetes can mount the root filesystem read-only.

# Base images are pinned by version here; Renovate (or a release step) pins them by digest.
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM python:3.11.14-slim-bookworm AS build
ARG APP
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Third-party dependencies first, from the lock file alone: this layer is rebuilt only when
# uv.lock changes. uv needs every workspace member's pyproject.toml to read the workspace.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    --mount=type=bind,source=contracts/pyproject.toml,target=contracts/pyproject.toml \
    --mount=type=bind,source=platform/pyproject.toml,target=platform/pyproject.toml \
    --mount=type=bind,source=services/scheduling/pyproject.toml,target=services/scheduling/pyproject.toml \
    --mount=type=bind,source=services/data/pyproject.toml,target=services/data/pyproject.toml \
    --mount=type=bind,source=services/goals/pyproject.toml,target=services/goals/pyproject.toml \
    --mount=type=bind,source=services/notify/pyproject.toml,target=services/notify/pyproject.toml \
    --mount=type=bind,source=web/pyproject.toml,target=web/pyproject.toml \
    --mount=type=bind,source=deploy/local/pyproject.toml,target=deploy/local/pyproject.toml \
    test -n "$APP" && uv sync --frozen --no-dev --no-install-workspace --package "aptt-$APP"
# Then the workspace's own code, installed as regular (not editable) packages.
COPY . /src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "aptt-$APP"

FROM python:3.11.14-slim-bookworm AS runtime
ARG APP
# tini as PID 1 forwards SIGTERM to the app (a service then stops taking requests, finishes the
# batch in hand and flushes its outbox relay within APTT_SHUTDOWN_GRACE_SECONDS; the web
# finishes the requests in hand) and reaps zombies. pip, setuptools and wheel leave the image:
# nothing installs anything at run time.
RUN set -eux; \
    apt-get update; \
    apt-get install --yes --no-install-recommends tini=0.19.0-1+b3; \
    rm -rf /var/lib/apt/lists/*; \
    python -m pip uninstall --yes pip setuptools wheel; \
    groupadd --system --gid 10001 aptt; \
    useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin aptt
COPY --from=build --chown=root:root /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp \
    APP_MODULE=aptt_${APP} \
    APTT_HTTP_HOST=0.0.0.0 \
    APTT_HTTP_PORT=8000
WORKDIR /tmp
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"APTT_HTTP_PORT\", \"8000\")}/healthz', timeout=2)"]
# The module comes from the build argument; `exec` leaves python as tini's only child.
ENTRYPOINT ["/usr/bin/tini", "--", "/bin/sh", "-c", "exec python -m \"$APP_MODULE\"", "--"]
