"""Logging in through the login page, with the one-time code step when the portal asks.

Regulators, approvers and auditors may be asked for a TOTP code after their password (a
page with an ``otp_token`` field). The code is computed from the user's django-otp TOTP
device; where django-otp's TOTP plugin is not installed the portal never asks, and none
of this is imported.
"""

import re
import time

from django.apps import apps
from playwright.sync_api import expect

from tests.conftest import PASSWORD

OTP_FIELD = "input[name='otp_token']"
TOTP_APP = "django_otp.plugins.otp_totp"


def totp_device_model():
    """django-otp's ``TOTPDevice`` when the portal uses it, else None."""
    if not apps.is_installed(TOTP_APP):
        return None
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice


def ensure_totp_device(user):
    """The user's confirmed TOTP device, made if it has none (None without django-otp)."""
    model = totp_device_model()
    if model is None:
        return None
    device = model.objects.filter(user=user, confirmed=True).order_by("pk").first()
    return device or model.objects.create(user=user, name="Authenticator app", confirmed=True)


def _device_for(user):
    model = totp_device_model()
    if model is None:
        raise AssertionError(
            "the portal asks for a one-time code, but django-otp's TOTP plugin "
            f"({TOTP_APP}) is not installed"
        )
    confirmed = model.objects.filter(user=user, confirmed=True).order_by("pk").first()
    # Without a confirmed device the page is the enrolment of a new one: confirm that one.
    device = confirmed or model.objects.filter(user=user).order_by("-pk").first()
    if device is None:
        raise AssertionError(f"the portal asks {user.username} for a code, but it has no device")
    return device


def totp_token(user):
    """The code the user's authenticator app shows now, as the portal will accept it.

    django-otp refuses a code of a time step already used (a replay), so a second login
    within one step uses the next step's code, which its tolerance accepts, or waits.
    """
    from django_otp.oath import TOTP

    device = _device_for(user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    while True:
        now = time.time()
        totp.time = now
        ahead = device.last_t + 1 - totp.t()
        if ahead <= 0:
            break
        if ahead <= device.tolerance:
            totp.time = now + ahead * device.step
            break
        time.sleep(device.step - (now - device.t0) % device.step + 0.05)
    return str(totp.token()).zfill(device.digits)


def log_in(page, user, password=PASSWORD):
    """Log ``user`` in on the login page; answers the one-time code step if there is one."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    # The password is taken once the login page is left (for the code step or the portal).
    expect(page, f"the login page did not take {user.username}'s password").not_to_have_url(
        re.compile(r"/accounts/login/")
    )
    page.wait_for_load_state("domcontentloaded")
    otp = page.locator(OTP_FIELD)
    if otp.count():
        otp.fill(totp_token(user))
        form = page.locator("form").filter(has=otp)
        form.locator("button[type='submit'], input[type='submit']").first.click()
    expect(otp, f"the one-time code step did not let {user.username} in").to_have_count(0)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.locator(".usermenu .user-name")).to_have_text(str(user))
