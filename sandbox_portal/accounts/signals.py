"""Logins, failed logins and logouts go into the audit trail; a user's API tokens are
revoked (and that audited) when their password, role or active state changes."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token

from sandbox_portal.audit.services import record

from .models import User


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


# API tokens end when what they were issued on changes: the password (whoever holds a
# token kept working after the account's password was changed or reset), the role and
# the staff flags (a token issued to a firm user without a second factor would carry on
# as a regulator's), and the active state (a removed member's token). This is done on
# the model's own save rather than in each view or service, so the password change and
# reset pages, ``firms.remove_member``, the admin and ``manage.py`` commands are all
# covered, including ones written later. (``QuerySet.update`` skips signals: nothing in
# the portal changes these fields that way.)
REVOKING_FIELDS = ("role", "is_active", "is_staff", "is_superuser")
_REVOCATION = "_api_token_revocation"


def _changed_credentials(user, stored, update_fields):
    changed = [name for name in REVOKING_FIELDS if stored[name] != getattr(user, name)]
    if stored["password"] != user.password:
        # Django re-hashes a password at login when its hasher's settings change; that is
        # saved with ``_password`` cleared and only the password field, and is no change.
        upgrade = (
            getattr(user, "_password", None) is None
            and update_fields is not None
            and set(update_fields) == {"password"}
            and user.has_usable_password()
        )
        if not upgrade:
            changed.insert(0, "password")
    return changed


@receiver(pre_save, sender=User)
def _note_credential_change(sender, instance, raw=False, update_fields=None, **kwargs):
    setattr(instance, _REVOCATION, [])
    if raw or instance.pk is None:
        return
    watched = ("password", *REVOKING_FIELDS)
    if update_fields is not None and not set(update_fields) & set(watched):
        return  # e.g. the last-login stamp of every login: no query
    stored = sender.objects.filter(pk=instance.pk).values(*watched).first()
    if stored is not None:
        setattr(instance, _REVOCATION, _changed_credentials(instance, stored, update_fields))


@receiver(post_save, sender=User)
def _revoke_api_tokens(sender, instance, raw=False, **kwargs):
    changed = getattr(instance, _REVOCATION, [])
    setattr(instance, _REVOCATION, [])
    if raw or not changed:
        return
    deleted, _ = Token.objects.filter(user=instance).delete()
    if deleted:
        # The change itself is audited by whoever made it, in the same request.
        record(
            actor=None,
            action="auth.tokens_revoked",
            target=instance,
            after={"changed": changed, "tokens": deleted},
        )
