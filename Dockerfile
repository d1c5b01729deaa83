# OTP bot as a container: `otp serve` on port 3000 as an unprivileged user.
#
#   docker build -t otp-bot .
#   docker compose up          (PostgreSQL 15, `otp db upgrade` once, then the app: compose.yaml)
#
# Two stages: the first builds the package and its dependencies into a virtual environment,
# the second copies only that environment, so no build tool or pip cache ships. The base is
# an argument so the same file builds from a mirrored or pinned image.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Only what the package is built from: the rest of the repository (tests, benchmarks) stays out.
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY commands/ commands/
COPY store/ store/
COPY templates/ templates/
COPY examples/ examples/
RUN python3 -m venv /opt/otp \
    && /opt/otp/bin/pip install --no-compile ".[postgres]"

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="OTP bot" \
      org.opencontainers.image.description="The Slack-first operating layer: org chart, scorecard, approvals, rhythm." \
      org.opencontainers.image.licenses="MIT"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/otp/bin:$PATH \
    MPLCONFIGDIR=/tmp/matplotlib \
    OTP_DATABASE_URL=sqlite:////data/otp.db
# Fixed ids, so a volume's owner can be set from outside (`chown 10001:10001 …`).
RUN groupadd --system --gid 10001 otp \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin otp \
    && install -d -o otp -g otp -m 0750 /data
COPY --from=build /opt/otp /opt/otp
COPY docker/entrypoint.sh /usr/local/bin/otp-entrypoint
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
# The slim image has no curl: Python asks /healthz (the process is up and answering).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["otp-entrypoint"]
CMD ["otp", "serve", "--host", "0.0.0.0"]
