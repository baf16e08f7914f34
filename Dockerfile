# Recueil's image: the locked dependencies, then the package; `recueil run` by default.
#   docker build -t recueil .
#   docker run --rm recueil --help
# docs/deploiement.md: docker-compose.yml with PostgreSQL, secrets, backups.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/recueil/venv/bin:$PATH \
    RECUEIL_DATA_DIR=/var/lib/recueil

WORKDIR /opt/recueil

# The lock first: this layer is rebuilt only when the dependencies change. Every file is
# checked against its hash; the spaCy models are ordinary packages of the lock.
COPY requirements-run.lock ./
RUN python -m venv /opt/recueil/venv \
    && pip install --no-deps --require-hashes -r requirements-run.lock

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY config ./config
COPY nlp ./nlp
COPY storage ./storage
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/recueil --create-home recueil
USER 10001:10001
VOLUME ["/var/lib/recueil"]

ENTRYPOINT ["recueil"]
CMD ["run"]
