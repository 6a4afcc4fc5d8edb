"""Services own every change: who may make it, the transaction, the audit event
and the notifications sent after commit. They take domain objects and ids,
never a request."""

from .common import IllegalTransition, PermissionDenied, ValidationError

__all__ = ["IllegalTransition", "PermissionDenied", "ValidationError"]
