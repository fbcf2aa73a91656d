# One image for every role (migrate, gateway, worker): `arbiter <command>`.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# H2O training needs a JVM; serving does not (models are served as ONNX).
RUN apt-get update && apt-get install -y --no-install-recommends default-jre-headless \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY platform ./platform
COPY models ./models
COPY shadow_workers ./shadow_workers
COPY migrations ./migrations
RUN pip install .
# the registry and spool directories exist in the image, owned by the service user: a volume mounted
# on them starts with this ownership, so registration and spooling can write (a root-owned mount could not)
RUN useradd --create-home arbiter \
    && mkdir -p /var/lib/arbiter/registry /var/lib/arbiter/spool \
    && chown -R arbiter:arbiter /var/lib/arbiter
USER arbiter
ENV ARBITER_REGISTRY_DIR=/var/lib/arbiter/registry ARBITER_SPOOL_DIR=/var/lib/arbiter/spool
# the serving role's health (`arbiter serve` on 8000); compose sets each role's own (workers: 9101)
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('ARBITER_HEALTH_PORT', '8000') + '/healthz', timeout=3)"]
ENTRYPOINT ["arbiter"]
