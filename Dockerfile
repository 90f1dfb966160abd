# The web app: gunicorn serving Django, static files (Chart.js included) served by whitenoise.

# Chart.js comes from the same pinned, integrity-checked npm package as in development.
# Tag checked: nodejs/docker-node (22/bookworm-slim/Dockerfile: NODE_VERSION=22.23.2; its
# stackbrew.js tags each build <major>.<minor>.<patch>-<variant>) and docker-library/repo-info,
# repos/node/remote/22.23.2-bookworm-slim.md (published).
FROM node:22.23.2-bookworm-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# mysqlclient (Django's driver for the Dolt sql-server) ships no Linux wheels: build every
# wheel here, with the compiler and headers, and keep them out of the final image.
# Tag checked: docker-library/repo-info, repos/python/remote/3.11.15-slim-bookworm.md
# (published; Python 3.11.15 on Debian bookworm). The final stage uses the same one.
FROM python:3.11.15-slim-bookworm AS wheels
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential default-libmysqlclient-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt ./
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt

# Tag checked: docker-library/repo-info, repos/python/remote/3.11.15-slim-bookworm.md, as for
# the wheels stage above (the wheels must match this Python).
FROM python:3.11.15-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The MySQL client library mysqlclient was built against (Debian's MariaDB Connector/C).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmariadb3 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --no-create-home --home-dir /app app
COPY requirements.txt ./
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels -r requirements.txt
COPY . .
COPY --from=assets /assets/node_modules/chart.js/dist node_modules/chart.js/dist
# collectstatic reads settings but touches no database: placeholders are enough here.
RUN DATABASE_URL=postgres://build@build/build OLAP_DATABASE_URL=postgres://build@build/build \
    CATALOG_DATABASE_URL=mysql://build@build/build \
    SECRET_KEY=build-only DEBUG=1 python manage.py collectstatic --noinput -v0
USER app
EXPOSE 8000
ENTRYPOINT ["scripts/docker-entrypoint.sh"]
CMD ["gunicorn", "analytics_site.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
