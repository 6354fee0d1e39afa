"""The Celery app: configuration from Django settings (CELERY_*), tasks from workers/."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("finecurate")
app.config_from_object("django.conf:settings", namespace="CELERY")  # tasks come from CELERY_IMPORTS
