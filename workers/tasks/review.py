"""Celery tasks: review."""
