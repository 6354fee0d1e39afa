"""All Celery tasks, one module per area. The worker imports each module listed in CELERY_IMPORTS
(config/settings.py); this package imports none of them, so a service can import its own task module
without pulling in every other area."""
