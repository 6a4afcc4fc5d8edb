"""Two-factor authentication (TOTP): regulators, auditors and staff give a code from an
authenticator app before any page or session API call; firm users may enrol; the token
endpoint asks for ``otp_token`` from whoever needs it."""

import re
import time

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from applications.models import Application
from sandbox_portal.accounts import two_factor
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import PASSWORD, login

TWO_FACTOR = "/accounts/two-factor/"
TOKEN = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _slow_throttle(settings):
    # After a wrong code the next attempt must wait 60 s (django-otp doubles it each time),
    # so a refusal in a test never depends on how fast the machine is.
    settings.OTP_TOTP_THROTTLE_FACTOR = 60


def code(device, steps_ahead=0):
    """The device's code, ``steps_ahead`` time steps from now (the device accepts one
    step either side, and never the same step twice)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device):
    good = {code(device, offset) for offset in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in good)


def enrolled(user):
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def password_login(user, next_url=None):
    """A browser that logged in with the password only."""
    client = Client()
    data = {"username": user.username, "password": PASSWORD}
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    if next_url:
        data["next"] = next_url
    response = client.post(url, data)
    assert response.status_code == 302
    return client, response


def events(action, user):
    return AuditEvent.objects.filter(action=action, actor=user)


# Without the second factor: held back everywhere ---------------------------------------


@pytest.mark.parametrize("persona", ["olivia", "victor", "audrey", "staff"])
def test_an_unverified_regulator_auditor_or_staff_is_sent_to_the_two_factor_page(
    people, submitted_a, persona
):
    client = Client()
    client.force_login(getattr(people, persona))
    pages = [
        reverse("dashboard"),
        reverse("case-list"),
        reverse("queue"),
        reverse("case-detail", args=[submitted_a.pk]),
        reverse("firm-list"),
        reverse("password_change"),
        reverse("admin:index"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(TWO_FACTOR), url
        assert "next=" in response["Location"], url


def test_an_unverified_officer_gets_403_from_the_api_with_the_session(people, submitted_a):
    client = APIClient()
    client.force_login(people.olivia)
    for url in (
        "/api/v1/applications/",
        f"/api/v1/applications/{submitted_a.pk}/",
        f"/api/v1/applications/{submitted_a.pk}/actions/",
        "/api/v1/test-runs/",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Two-factor verification required" in response.json()["detail"]


def test_an_unverified_officer_changes_nothing_by_page_or_api(people, submitted_a):
    page = Client()
    page.force_login(people.olivia)
    api = APIClient()
    api.force_login(people.olivia)
    before = AuditEvent.objects.count()
    response = page.post(reverse("case-action", args=[submitted_a.pk, "start_screening"]))
    assert response.status_code == 302 and response["Location"].startswith(TWO_FACTOR)
    response = api.post(f"/api/v1/applications/{submitted_a.pk}/actions/start_screening/")
    assert response.status_code == 403
    assert Application.objects.get(pk=submitted_a.pk).state == "submitted"
    assert AuditEvent.objects.count() == before


def test_htmx_requests_are_told_to_load_the_two_factor_page(people, submitted_a):
    client = Client()
    client.force_login(people.olivia)
    response = client.get(reverse("case-detail", args=[submitted_a.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(TWO_FACTOR)


def test_the_exempt_pages_stay_open_without_the_second_factor(people):
    client = Client()
    client.force_login(people.olivia)
    assert client.get(reverse("healthz")).status_code in (200, 503)
    assert client.get(reverse("report-verify")).status_code == 200
    assert client.get(reverse("api-schema")).status_code == 200
    assert client.get(TWO_FACTOR).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_it_can_be_turned_off(people, settings):
    settings.TWO_FACTOR_REQUIRED = False
    client = Client()
    client.force_login(people.olivia)
    assert client.get(reverse("dashboard")).status_code == 200
    assert APIClient().post(TOKEN, {"username": "olivia", "password": PASSWORD}).status_code == 200


# Enrolment -----------------------------------------------------------------------------


def test_the_login_page_leads_a_new_officer_to_enrol_and_back(people, submitted_a):
    target = reverse("case-detail", args=[submitted_a.pk])
    client, response = password_login(people.olivia, next_url=target)
    assert response["Location"].startswith(TWO_FACTOR)
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=people.olivia)
    assert not device.confirmed
    secret = two_factor.secret_base32(device)
    assert secret in html
    assert re.search(r"<svg[^>]*>.*<path", html, re.S), "the QR code is drawn in the page"
    assert 'name="otp_token"' in html
    # Nothing in the page is fetched from another site.
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert device.config_url.startswith("otpauth://totp/Sandbox%20Portal%3Aolivia?")
    assert f"secret={secret}" in device.config_url

    response = client.post(TWO_FACTOR, {"otp_token": code(device), "next": target})
    assert response.status_code == 302
    assert response["Location"] == target
    device.refresh_from_db()
    assert device.confirmed
    assert events("auth.two_factor_enrolled", people.olivia).count() == 1
    assert client.get(target).status_code == 200
    assert client.get("/api/v1/applications/").status_code == 200


def test_a_wrong_code_at_enrolment_is_refused_and_audited(people):
    client, _ = password_login(people.olivia)
    client.get(TWO_FACTOR)
    device = TOTPDevice.objects.get(user=people.olivia)
    response = client.post(TWO_FACTOR, {"otp_token": wrong_code(device)})
    assert response.status_code == 400
    assert two_factor.WRONG_CODE in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert device.throttling_failure_count == 1
    failed = events("auth.two_factor_failed", people.olivia).get()
    assert failed.after["step"] == "enrol"
    assert not events("auth.two_factor_enrolled", people.olivia).exists()
    assert client.get(reverse("dashboard")).status_code == 302
    # An empty code is a form error, not an attempt.
    response = client.post(TWO_FACTOR, {"otp_token": ""})
    assert response.status_code == 400
    assert events("auth.two_factor_failed", people.olivia).count() == 1


# Verification --------------------------------------------------------------------------


def test_an_enrolled_officer_gives_the_code_after_the_password(people):
    device = enrolled(people.victor)
    client, response = password_login(people.victor, next_url=reverse("case-list"))
    assert response["Location"].startswith(TWO_FACTOR)
    page = client.get(response["Location"]).content.decode()
    assert "Enter the current 6-digit code" in page
    assert two_factor.secret_base32(device) not in page, "the secret is shown only at enrolment"
    assert client.get(reverse("case-list")).status_code == 302

    response = client.post(TWO_FACTOR, {"otp_token": code(device), "next": reverse("case-list")})
    assert response.status_code == 302
    assert response["Location"] == reverse("case-list")
    assert client.get(reverse("case-list")).status_code == 200
    assert events("auth.two_factor_verified", people.victor).count() == 1


def test_wrong_codes_are_refused_then_throttled(people):
    device = enrolled(people.audrey)
    client, _ = password_login(people.audrey)
    response = client.post(TWO_FACTOR, {"otp_token": wrong_code(device)})
    assert response.status_code == 400
    assert two_factor.WRONG_CODE in response.content.decode()
    # Straight after a wrong code even the right one is refused until the delay has passed.
    response = client.post(TWO_FACTOR, {"otp_token": code(device)})
    assert response.status_code == 429
    assert "Too many wrong codes" in response.content.decode()
    assert client.get(reverse("dashboard")).status_code == 302
    failures = events("auth.two_factor_failed", people.audrey)
    assert failures.count() == 2
    assert failures.filter(after__throttled=True).count() == 1
    # Once the delay is over, the right code lets the auditor in.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    response = client.post(TWO_FACTOR, {"otp_token": code(device)})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200


def test_a_code_is_never_accepted_twice(people):
    device = enrolled(people.olivia)
    first, _ = password_login(people.olivia)
    used = code(device)
    assert first.post(TWO_FACTOR, {"otp_token": used}).status_code == 302
    second, _ = password_login(people.olivia)
    assert second.post(TWO_FACTOR, {"otp_token": used}).status_code == 400


def test_next_only_goes_back_into_the_portal(people):
    device = enrolled(people.olivia)
    client, _ = password_login(people.olivia)
    response = client.post(
        TWO_FACTOR, {"otp_token": code(device), "next": "https://elsewhere.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_a_session_verified_by_another_users_device_is_not_verified(people):
    other = enrolled(people.victor)
    client = Client()
    client.force_login(people.olivia)
    session = client.session
    session["otp_device_id"] = other.persistent_id
    session.save()
    assert client.get(reverse("dashboard")).status_code == 302


# The API token -------------------------------------------------------------------------


def test_the_token_endpoint_asks_a_regulator_for_otp_token(people):
    client = APIClient()
    # Not enrolled yet: told to set up the app in the portal first.
    response = client.post(TOKEN, {"username": "olivia", "password": PASSWORD})
    assert response.status_code == 400
    assert "otp_token" in response.json()["errors"]
    device = enrolled(people.olivia)
    response = client.post(TOKEN, {"username": "olivia", "password": PASSWORD})
    assert response.status_code == 400
    assert "otp_token" in response.json()["errors"]
    assert "otp_token" in response.json()["detail"]
    response = client.post(
        TOKEN, {"username": "olivia", "password": PASSWORD, "otp_token": wrong_code(device)}
    )
    assert response.status_code == 400
    assert response.json()["errors"]["otp_token"] == [two_factor.WRONG_CODE]
    assert "token" not in response.json()
    assert events("auth.two_factor_failed", people.olivia).count() == 1
    assert not events("auth.login", people.olivia).exists()


def test_the_token_endpoint_gives_a_token_for_the_right_code_and_the_token_is_trusted(people):
    device = enrolled(people.victor)
    response = APIClient().post(
        TOKEN, {"username": "victor", "password": PASSWORD, "otp_token": code(device)}
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/applications/").status_code == 200
    assert events("auth.login", people.victor).count() == 1


def test_the_schema_documents_otp_token(people):
    client = APIClient()
    schema = client.get("/api/schema/?format=json").json()
    request = schema["components"]["schemas"]["TokenRequestRequest"]
    assert "otp_token" in request["properties"]
    assert "otp_token" not in request.get("required", [])
    assert "otp_token" in schema["paths"][TOKEN]["post"]["description"]


# Firm users ----------------------------------------------------------------------------


def test_firm_users_are_not_asked_for_a_code(people, submitted_a):
    client, response = password_login(people.alice)
    assert response["Location"] == reverse("dashboard")
    assert client.get(reverse("case-detail", args=[submitted_a.pk])).status_code == 200
    assert client.get("/api/v1/applications/").status_code == 200
    response = APIClient().post(TOKEN, {"username": "amir", "password": PASSWORD})
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user__in=[people.alice, people.amir]).exists()


def test_a_firm_user_may_enrol_and_is_then_asked_at_every_login(people):
    client = login(Client(), people.bella)
    page = client.get(TWO_FACTOR).content.decode()
    assert "Add a second factor" in page
    device = TOTPDevice.objects.get(user=people.bella)
    assert client.post(TWO_FACTOR, {"otp_token": code(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed

    later, response = password_login(people.bella)
    assert response["Location"].startswith(TWO_FACTOR)
    assert later.get(reverse("dashboard")).status_code == 302
    assert later.post(TWO_FACTOR, {"otp_token": code(device, 1)}).status_code == 302
    assert later.get(reverse("dashboard")).status_code == 200
    response = APIClient().post(TOKEN, {"username": "bella", "password": PASSWORD})
    assert response.status_code == 400 and "otp_token" in response.json()["errors"]


def test_the_test_helper_logs_in_a_verified_officer(people):
    client = login(Client(), people.olivia)
    assert client.get(reverse("dashboard")).status_code == 200
