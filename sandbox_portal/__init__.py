# First: keeps the recursion limit that protects the JSON decoders (a dependency raises it).
import assessments.engine.recursion  # noqa: F401

from .celery import app as celery_app

__all__ = ["celery_app"]
