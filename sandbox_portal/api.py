"""API-wide error handling: every refusal is a 4xx with a message."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    from applications.actions import ActionInvalid
    from applications.services import IllegalTransition

    if isinstance(exc, ActionInvalid):
        errors = {name: [item["message"] for item in items] for name, items in exc.errors.items()}
        return Response(
            {"detail": "The input is not valid.", "errors": errors},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, IllegalTransition):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            return Response(
                {"detail": "The input is not valid.", "errors": exc.message_dict},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(
            {"detail": str(exc) or "You do not have permission to do this."},
            status=status.HTTP_403_FORBIDDEN,
        )
    return drf_exception_handler(exc, context)
