"""Celery tasks (thin: each claims its Job, calls a service, records the outcome) and model engines."""
