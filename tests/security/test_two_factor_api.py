"""The second factor cannot be skipped on the API: a session signed in with the password
only gets 401/403 from every API route, whatever ``Authorization`` header it adds, and
changes nothing; only a valid API token (issued after the second factor) stands in for it.

Routes come from the URL configuration (``routes.py``), as in the authorization matrix.
"""

from collections import defaultdict

import pytest
from django.conf import settings as django_settings
from django.test import Client
from rest_framework.authtoken.models import Token

from applications.models import TierStatus
from sandbox_portal.accounts.middleware import NEEDS_SECOND_FACTOR
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import login
from tests.security.test_matrix import PORTAL_ROUTES, RULES, _rolled_back, url_for

# The accounts that must give a second factor.
NEEDS_CODE = ["olivia", "victor", "audrey", "staff"]
# What a client may add to a session request: nothing, schemes the token authentication
# does not understand, an empty value, and token headers it refuses.
HEADERS = {
    "none": None,
    "bearer": "Bearer x",
    "basic": "Basic b2xpdmlhOnB3",
    "empty": "",
    "token-without-key": "Token",
    "wrong-token": "Token wrongkey",
}
# Open to anyone, signed in or not: they hold no data.
PUBLIC = {"public", "post-only-public"}
API_ROUTES = [r for r in PORTAL_ROUTES if r.is_api and RULES.get(r.key) not in PUBLIC]
TIER_CHANGE = {"tier": "technical", "status": "waived", "reason": "Bypass attempt."}


def password_only(user):
    """A browser signed in with the password and nothing more."""
    client = Client()
    client.force_login(user)
    return client


def headers(value):
    return {} if value is None else {"HTTP_AUTHORIZATION": value}


def api_url(route, objects):
    """The matrix's URL for the route; a route the matrix has not classified yet names
    Firm A's case in every parameter (the refusal comes before any object is read)."""
    try:
        return url_for(route, objects)
    except KeyError:
        return route.url(defaultdict(lambda: objects.application.pk))


def tier_change_url(objects):
    return f"/api/v1/applications/{objects.application.pk}/actions/set_tier_status/"


def state_of(app):
    app.refresh_from_db()
    return (
        app.state,
        list(TierStatus.objects.filter(application=app).values_list("tier", "status")),
        AuditEvent.objects.count(),
    )


def test_the_routes_under_test_are_the_whole_api():
    assert len(API_ROUTES) > 40
    assert "api:application-take-action" in {r.key for r in API_ROUTES}


@pytest.mark.parametrize("persona", NEEDS_CODE)
def test_every_api_route_refuses_an_unverified_session_whatever_header_it_adds(
    people, firm_a_objects, persona
):
    client = password_only(getattr(people, persona))
    before = state_of(firm_a_objects.application)
    wrong = []
    for route in API_ROUTES:
        url = api_url(route, firm_a_objects)
        for label, value in HEADERS.items():
            for method in ("get", "post"):
                response = _rolled_back(
                    lambda url=url, method=method, value=value: getattr(client, method)(
                        url, **headers(value)
                    )
                )
                if response.status_code not in (401, 403):
                    wrong.append(f"{method.upper()} {url} [{label}]: {response.status_code}")
    assert not wrong, f"{persona}:\n" + "\n".join(wrong[:40])
    assert state_of(firm_a_objects.application) == before


@pytest.mark.parametrize("persona", ["olivia", "victor"])
def test_an_unverified_regulator_takes_no_lifecycle_action(people, firm_a_objects, persona):
    client = password_only(getattr(people, persona))
    before = state_of(firm_a_objects.application)
    for label, value in HEADERS.items():
        response = client.post(tier_change_url(firm_a_objects), TIER_CHANGE, **headers(value))
        assert response.status_code == 403, label
        assert response.json()["detail"] == NEEDS_SECOND_FACTOR, label
        assert state_of(firm_a_objects.application) == before, label


def test_the_same_action_is_taken_by_a_verified_session_with_any_header(people, firm_a_objects):
    # The refusals above come from the missing second factor, not from a bad request.
    client = login(Client(), people.olivia)
    before = state_of(firm_a_objects.application)
    response = client.post(tier_change_url(firm_a_objects), TIER_CHANGE, HTTP_AUTHORIZATION="x")
    assert response.status_code == 200, response.content
    assert state_of(firm_a_objects.application) != before
    assert AuditEvent.objects.latest("seq").action == "tier.set_status"


@pytest.mark.parametrize("persona", NEEDS_CODE)
def test_a_valid_token_still_works_with_or_without_an_unverified_session(people, persona):
    user = getattr(people, persona)
    token, _ = Token.objects.get_or_create(user=user)
    for client in (Client(), password_only(user)):
        response = client.get("/api/v1/applications/", HTTP_AUTHORIZATION=f"Token {token.key}")
        assert response.status_code == 200


def test_a_token_of_an_inactive_user_does_not_stand_in_for_the_second_factor(people):
    people.victor.is_active = False
    people.victor.save()
    token = Token.objects.create(user=people.victor)
    client = password_only(people.olivia)
    response = client.get("/api/v1/applications/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code in (401, 403)


def test_the_public_api_pages_stay_open_to_an_unverified_session(people):
    client = password_only(people.olivia)
    assert client.get("/api/schema/", HTTP_AUTHORIZATION="Bearer x").status_code == 200
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.parametrize("label", ["none", "bearer", "basic", "empty"])
def test_the_api_itself_never_trusts_an_unverified_session(people, submitted_a, settings, label):
    # Without the middleware in front (a route it misses, a settings change), the API's own
    # session authentication still does not let the session in.
    middleware = "sandbox_portal.accounts.middleware.TwoFactorRequiredMiddleware"
    assert middleware in django_settings.MIDDLEWARE
    settings.MIDDLEWARE = [m for m in django_settings.MIDDLEWARE if m != middleware]
    client = password_only(people.olivia)
    before = state_of(submitted_a)
    url = f"/api/v1/applications/{submitted_a.pk}/actions/start_screening/"
    assert client.post(url, **headers(HEADERS[label])).status_code in (401, 403)
    assert client.get("/api/v1/applications/", **headers(HEADERS[label])).status_code in (
        401,
        403,
    )
    assert state_of(submitted_a) == before
    assert client.get("/api/schema/").status_code == 200
