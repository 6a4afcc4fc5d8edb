"""Logins, failed logins and logouts go into the audit trail."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from sandbox_portal.audit.services import record


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record(actor=user, action="auth.login", target=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record(actor=user, action="auth.logout", target=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    record(
        actor=None,
        action="auth.login_failed",
        after={"username": str(credentials.get("username", ""))[:150]},
    )
