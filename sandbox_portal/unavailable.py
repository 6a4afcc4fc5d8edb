"""A database that goes away in the middle of a request answers 503, never 500.

Every change runs in one transaction (the services' ``transaction.atomic``), so when the
connection drops before the commit the database rolls the whole change back: the answer
can honestly say that nothing was saved. Pages get a short page, the API a JSON error.
The broken connection is closed at the end of the request (``CONN_HEALTH_CHECKS``), so
the next request opens a fresh one.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
MESSAGE = "The database is unavailable; nothing was saved. Try again in a moment."
RETRY_AFTER_SECONDS = "10"


def unavailable_response(request):
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": MESSAGE}, status=503)
    else:
        # A template that reads nothing from the database (no user, no messages).
        body = loader.get_template("503.html").render({"message": MESSAGE})
        response = HttpResponse(body, status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        logger.error(
            "database unavailable during %s %s: %s",
            request.method,
            request.path,
            exception,
            exc_info=exception,
        )
        return unavailable_response(request)


def server_error(request):
    """The site's 500 view (``handler500``), for a database error raised outside a view
    (in a middleware): the same 503 as above."""
    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_ERRORS):
        return unavailable_response(request)
    return defaults.server_error(request)
