# calfbot container image: docker compose up -d (see compose.yaml and deploy/README.md).
#
# Two stages: the builder turns the checkout into wheels (calfbot's and every
# dependency's); the runtime stage installs only those wheels into a virtual
# environment, so no build tool or source tree ends up in the image.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY content/ content/
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="calfbot" \
      org.opencontainers.image.description="A Telegram bot that coaches people through a daily calf workout."
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PATH=/opt/calfbot/venv/bin:$PATH \
    CALFBOT_DATA_DIR=/data \
    CALFBOT_HTTP_PORT=9090
# Only the wheels, mounted from the builder for this one step: no copy of
# them stays in a layer. Time zones come with the tzdata wheel, a dependency.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m venv /opt/calfbot/venv \
    && /opt/calfbot/venv/bin/pip install --no-index --find-links=/wheels calfbot \
    && calfbot check-content \
    && python -c "from zoneinfo import ZoneInfo; ZoneInfo('Europe/Berlin')"
RUN groupadd --system --gid 10001 calfbot \
    && useradd --system --uid 10001 --gid calfbot --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin calfbot \
    && install -d -o calfbot -g calfbot -m 0750 /data
# The SQLite database and its backups/ (calfbot backup) live here.
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
# `calfbot healthcheck` exits 0 when GET http://127.0.0.1:$CALFBOT_HTTP_PORT/healthz answers 200.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["calfbot", "healthcheck"]
# The bot stops cleanly within 10 s of SIGTERM (compose.yaml gives it 15 s).
STOPSIGNAL SIGTERM
CMD ["calfbot", "run"]
