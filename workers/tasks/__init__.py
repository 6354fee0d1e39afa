"""All Celery tasks; one module per area, re-exported here so autodiscovery finds them."""
