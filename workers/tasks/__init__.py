"""All Celery tasks; one module per area, imported here so autodiscovery registers them."""
from workers.tasks import exports, ingest, mapping, review  # noqa: F401
