"""Two-factor authentication with time-based one-time passwords (TOTP, django-otp).

Case officers, approvers, auditors and staff must confirm a code from an authenticator
app before they see any page or use the API with their session; firm users may enrol
too, and once they have, their logins ask for the code as well. ``TWO_FACTOR_REQUIRED``
turns the requirement off (development only).

The services here own the device's state and the audit events; the views call them.
A wrong code is counted on the device (django-otp's throttling: after each failure the
next attempt must wait twice as long as the one before), and the count must survive the
refusal, so a failed verification commits rather than rolls back.
"""

import base64
from dataclasses import dataclass

import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import VerifyNotAllowed
from django_otp.plugins.otp_totp.models import TOTPDevice

from sandbox_portal.audit.services import record

from .models import Role

# Roles that may never skip the second factor: whoever decides, audits or administers.
REQUIRED_ROLES = frozenset({Role.CASE_OFFICER, Role.APPROVER, Role.AUDITOR, Role.STAFF})
DEVICE_NAME = "Authenticator app"
ENROLLED_SESSION_KEY = "two_factor_enrolled"

NEEDS_SECOND_FACTOR = (
    "Two-factor verification required: confirm the code from your authenticator app at "
    "/accounts/two-factor/, or use an API token (POST /api/v1/auth/token/ with otp_token)."
)
WRONG_CODE = "The code is wrong or has expired. Enter the current code from your app."
MISSING_CODE = "Enter the 6-digit code from your authenticator app."


@dataclass
class Outcome:
    device: TOTPDevice | None = None
    error: str = ""
    throttled: bool = False

    @property
    def ok(self):
        return self.device is not None


def role_requires_two_factor(user):
    """Whether the user's role (or staff flags) makes the second factor compulsory."""
    return bool(
        getattr(settings, "TWO_FACTOR_REQUIRED", True)
        and user.is_authenticated
        and (user.role in REQUIRED_ROLES or user.is_staff or user.is_superuser)
    )


def confirmed_device(user):
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def requires_two_factor(user):
    """Whether this user must give a code: by role, or because they enrolled a device."""
    if not getattr(settings, "TWO_FACTOR_REQUIRED", True) or not user.is_authenticated:
        return False
    return role_requires_two_factor(user) or confirmed_device(user) is not None


def must_verify(request):
    """Whether this request's user owes a code before going on: by role, or because they
    enrolled (noted in the session at login, so other users cost no query)."""
    user = request.user
    if not getattr(settings, "TWO_FACTOR_REQUIRED", True) or not user.is_authenticated:
        return False
    if role_requires_two_factor(user):
        return True
    return bool(request.session.get(ENROLLED_SESSION_KEY)) and confirmed_device(user) is not None


def owes_code(request):
    """Whether this request's session is signed in by a user who must give a code and
    has not given it yet."""
    return must_verify(request) and not is_verified(request)


def note_enrolled(request):
    """Remember for the session that its (optional) user has a device and owes a code."""
    if not role_requires_two_factor(request.user):
        request.session[ENROLLED_SESSION_KEY] = True


def is_verified(request):
    """Whether the request's session has been verified with a confirmed device."""
    verified = getattr(request.user, "is_verified", None)
    return bool(verified and verified())


def pending_device(user):
    """The unconfirmed device the user is enrolling (created on first use)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_base32(device):
    """The shared secret as authenticator apps take it when typed in."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def provisioning_uri(device):
    """The ``otpauth://`` URI of the device (issuer ``OTP_TOTP_ISSUER``), as the QR code
    carries it."""
    return device.config_url


def qr_svg(device):
    """The provisioning URI as an inline SVG QR code, drawn on the server."""
    code = segno.make(provisioning_uri(device), error="m")
    return code.svg_inline(scale=5, border=2, dark="#000", light="#fff", title="QR code")


def _throttle_message(device):
    allowed, details = device.verify_is_allowed()
    if allowed or not details:
        return ""
    if details.get("reason") != VerifyNotAllowed.N_FAILED_ATTEMPTS:
        return "Verification is not allowed now."
    locked_until = details.get("locked_until")
    seconds = 1
    if locked_until is not None:
        seconds = max(1, int((locked_until - timezone.now()).total_seconds() + 0.999))
    return (
        f"Too many wrong codes ({details.get('failure_count')}). "
        f"Wait {seconds} s before trying again."
    )


def _check(user, device, token, *, action):
    """Verify ``token`` on ``device`` (locked for the check), auditing a failure."""
    token = (token or "").strip().replace(" ", "")
    if not token:
        return Outcome(error=MISSING_CODE)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        throttled = _throttle_message(device)
        if throttled:
            record(
                actor=user,
                action="auth.two_factor_failed",
                target=user,
                after={"step": action, "throttled": True},
            )
            return Outcome(error=throttled, throttled=True)
        if not device.verify_token(token):
            record(
                actor=user,
                action="auth.two_factor_failed",
                target=user,
                after={"step": action, "failures": device.throttling_failure_count},
            )
            return Outcome(error=WRONG_CODE)
    return Outcome(device=device)


def confirm_enrolment(user, token):
    """Confirm the user's pending device with a code from it; audited either way."""
    outcome = _check(user, pending_device(user), token, action="enrol")
    if not outcome.ok:
        return outcome
    with transaction.atomic():
        device = outcome.device
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record(
            actor=user,
            action="auth.two_factor_enrolled",
            target=user,
            after={"device": device.name},
        )
    return outcome


def verify(user, token):
    """Check a code against the user's confirmed device; audited either way."""
    device = confirmed_device(user)
    if device is None:
        return Outcome(error="No authenticator app is set up for this account yet.")
    outcome = _check(user, device, token, action="verify")
    if outcome.ok:
        record(actor=user, action="auth.two_factor_verified", target=user)
    return outcome


def mark_verified(request, device):
    """Remember in the session that this user gave a good code (``django_otp.login``)."""
    otp_login(request, device)
    return request.session.get(DEVICE_ID_SESSION_KEY) == device.persistent_id
