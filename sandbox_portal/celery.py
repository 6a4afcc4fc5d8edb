"""The Celery app, configured from Django settings (``CELERY_`` namespace)."""

import os

from celery import Celery

from . import broker  # noqa: F401 - registers the portalfs:// broker (no server needed)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox_portal.settings")

app = Celery("sandbox_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
