from contextlib import contextmanager

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django_fsm import TransitionNotAllowed, can_proceed

from sandbox_portal.audit.services import record

from ..models import Application, FirmMembership, MembershipRole


class IllegalTransition(Exception):
    """The case is not in a state from which this action can be taken."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def require(condition, message):
    if not condition:
        raise PermissionDenied(message)


def is_firm_member(user, firm_id):
    return (
        user.is_authenticated
        and user.is_firm_user
        and FirmMembership.objects.filter(user=user, firm_id=firm_id, is_active=True).exists()
    )


def is_firm_admin(user, firm_id):
    return (
        user.is_authenticated
        and user.is_firm_user
        and FirmMembership.objects.filter(
            user=user, firm_id=firm_id, is_active=True, role=MembershipRole.ADMIN
        ).exists()
    )


@contextmanager
def locked_application(application):
    """Open a transaction and lock the case's row for the length of it."""
    with transaction.atomic():
        yield Application.objects.select_for_update().get(pk=application.pk)


def _not_now(app, method_name):
    return IllegalTransition(
        f"This case is {app.get_state_display().lower()}; "
        f"'{method_name.replace('_', ' ')}' cannot be taken now."
    )


def check_state(app, method_name):
    """Refuse a transition the case's state does not allow before checking its
    content, so a case in the wrong state always answers "not now" (409)."""
    if not can_proceed(getattr(app, method_name)):
        raise _not_now(app, method_name)


def move(app, method_name, *args):
    """Run one FSM transition, turning a refusal into a clear message."""
    before = app.state
    method = getattr(app, method_name)
    try:
        method(*args)
    except TransitionNotAllowed as exc:
        raise _not_now(app, method_name) from exc
    return before


def snapshot(instance, fields):
    data = model_to_dict(instance, fields=fields)
    return {key: _plain(value) for key, value in data.items()}


def _plain(value):
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "name") and hasattr(value, "url"):
        return value.name
    return value


def diff(before, after):
    changed = {k for k in after if before.get(k) != after.get(k)}
    return (
        {k: before.get(k) for k in sorted(changed)},
        {k: after.get(k) for k in sorted(changed)},
    )


def after_commit(func, *args, **kwargs):
    transaction.on_commit(lambda: func(*args, **kwargs))


__all__ = [
    "IllegalTransition",
    "PermissionDenied",
    "ValidationError",
    "after_commit",
    "check_state",
    "diff",
    "is_firm_admin",
    "is_firm_member",
    "locked_application",
    "move",
    "record",
    "require",
    "snapshot",
]
