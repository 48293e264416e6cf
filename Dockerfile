# syntax=docker/dockerfile:1
# Build: the locked dependencies into a virtual environment, then the project.
FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /srv/carrierdesk
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app ./app
COPY migrations ./migrations
COPY alembic.ini ./
RUN uv sync --frozen --no-dev

# Run: no build tools, no root.
FROM python:3.11-slim
RUN groupadd --system carrierdesk && useradd --system --gid carrierdesk --home /srv/carrierdesk carrierdesk
WORKDIR /srv/carrierdesk
COPY --from=build --chown=carrierdesk:carrierdesk /srv/carrierdesk /srv/carrierdesk
ENV PATH="/srv/carrierdesk/.venv/bin:$PATH" \
    CARRIERDESK_ENV=production \
    PYTHONUNBUFFERED=1
USER carrierdesk
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# The API only; run `carrierdesk worker` from the same image as a second service.
CMD ["carrierdesk", "serve", "--no-worker", "--host", "0.0.0.0", "--port", "8000"]
