"""gunicorn settings for the web service: docker-compose, the tests and the benchmarks all run this one file.

gthread workers keep a slow client to one thread, not a whole worker: three clients trickling a body
no longer take the app offline (nginx in front buffers bodies too; this is the second line).
"""
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "gthread"
# Each thread keeps its own persistent database connection (CONN_MAX_AGE): workers x threads stays well under
# PostgreSQL's 100 connections, with room for the Celery workers.
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
keepalive = 5
# A client that sends its headers this slowly is dropped (gunicorn's default is 30 s of silence).
graceful_timeout = 30
# Limits on the request line and headers (gunicorn's defaults, stated so nobody raises them by accident).
limit_request_line = 4094
limit_request_fields = 100
accesslog = "-"
