# The web app: gunicorn serving Django, static files (Chart.js included) served by whitenoise.

# Chart.js comes from the same pinned, integrity-checked npm package as in development.
FROM node:22-bookworm-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN useradd --system --no-create-home --home-dir /app app
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY . .
COPY --from=assets /assets/node_modules/chart.js/dist node_modules/chart.js/dist
# collectstatic reads settings but touches no database: placeholders are enough here.
RUN DATABASE_URL=postgres://build@build/build OLAP_DATABASE_URL=postgres://build@build/build \
    CATALOG_DATABASE_URL=sqlite:////tmp/build-catalog.db \
    SECRET_KEY=build-only DEBUG=1 python manage.py collectstatic --noinput -v0
# The catalog volume mounts here; a new named volume takes this folder's owner.
RUN mkdir -p /data/catalog && chown app /data/catalog
USER app
EXPOSE 8000
ENTRYPOINT ["scripts/docker-entrypoint.sh"]
CMD ["gunicorn", "analytics_site.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
