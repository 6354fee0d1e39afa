"""Celery tasks: mapping."""
