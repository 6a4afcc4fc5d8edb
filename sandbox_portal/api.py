"""API-wide error handling: every refusal is a 4xx with a message.

The one place that maps what services and validation raise to responses:
- bad input (a form, a serializer or a service refusing the content): 400 with
  ``detail`` naming the problems and ``errors`` by field;
- a role that may not act: 403; a case whose state forbids the action: 409.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import ValidationError as DrfValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

GENERAL = "non_field_errors"


def _flatten(messages):
    """Nested serializer errors as a flat list of text."""
    if isinstance(messages, dict):
        return [
            f"{name}: {text}" if name != GENERAL else text
            for name, value in messages.items()
            for text in _flatten(value)
        ]
    if isinstance(messages, list | tuple):
        return [text for item in messages for text in _flatten(item)]
    return [str(messages)]


def invalid(errors):
    """400 with every message by field, and all of them in ``detail``."""
    if not isinstance(errors, dict):
        errors = {GENERAL: _flatten(errors)}
    errors = {
        (GENERAL if name == NON_FIELD_ERRORS else name): value for name, value in errors.items()
    }
    return Response(
        {"detail": "The input is not valid: " + "; ".join(_flatten(errors)), "errors": errors},
        status=status.HTTP_400_BAD_REQUEST,
    )


def exception_handler(exc, context):
    response = _refusal(exc)
    if response is None:
        return drf_exception_handler(exc, context)
    set_rollback()
    return response


def _refusal(exc):
    from applications.actions import ActionInvalid
    from applications.services import IllegalTransition

    if isinstance(exc, ActionInvalid):
        return invalid(
            {name: [item["message"] for item in items] for name, items in exc.errors.items()}
        )
    if isinstance(exc, IllegalTransition):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return invalid(exc.message_dict)
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DrfValidationError):
        return invalid(exc.detail)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(
            {"detail": str(exc) or "You do not have permission to do this."},
            status=status.HTTP_403_FORBIDDEN,
        )
    return None


# The refusals any operation can answer, documented once for the whole schema.
ERROR_STATUSES = {
    "400": "The input is not valid (a field, a filter or a page).",
    "401": "Not authenticated: send a token (``Authorization: Token <key>``).",
    "403": "Your role may not do this.",
    "404": "Not found, or not visible to you.",
    "405": "Method not allowed.",
    "406": "The requested format is not available.",
    "429": "Too many requests or failed logins; wait and try again.",
}
UNSAFE_ERROR_STATUSES = {
    "409": "The case's state does not allow this.",
    "413": "The request body is too large.",
    "415": "Unsupported media type.",
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        # By field: a list of messages, or for a nested field its own fields.
        "errors": {"type": "object"},
    },
    "required": ["detail"],
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents its refusals."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            statuses = dict(ERROR_STATUSES)
            if method.lower() not in ("get", "head", "options"):
                statuses.update(UNSAFE_ERROR_STATUSES)
            responses = operation.setdefault("responses", {})
            for code, description in statuses.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result


def not_found(request, exception=None):
    """The site's 404: JSON under /api/ (a path no route matches), the page elsewhere."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
