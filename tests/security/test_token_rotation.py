"""An API token ends when its user's password, role or active state changes, however the
change is made (the password pages, the reset link, a service, a save); the end is an
audit event, and logging in again gives a new token. Other saves leave it alone."""

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import Token

from applications.models import FirmMembership
from applications.services import firms
from sandbox_portal.accounts.models import Role
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import PASSWORD, login

NEW_PASSWORD = "Quartz-lantern-4417"
TOKEN_URL = "/api/v1/auth/token/"


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """A cheap hasher to upgrade to, as a deployment raising its hasher's cost would."""

    algorithm = "pbkdf2_quick"
    iterations = 2


def token_of(user):
    return Token.objects.get_or_create(user=user)[0].key


def api_status(key):
    return Client().get("/api/v1/applications/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def revocations(user):
    return AuditEvent.objects.filter(action="auth.tokens_revoked", object_id=str(user.pk))


def new_token(username, password):
    response = Client().post(TOKEN_URL, {"username": username, "password": password})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def test_a_password_change_on_the_page_ends_the_token(people):
    old = token_of(people.alice)
    assert api_status(old) == 200
    client = login(Client(), people.alice)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content
    assert api_status(old) == 401
    assert revocations(people.alice).get().after == {"changed": ["password"], "tokens": 1}
    fresh = new_token("alice", NEW_PASSWORD)
    assert fresh != old
    assert api_status(fresh) == 200


def test_a_password_reset_ends_the_token(people):
    old = token_of(people.amir)
    client = Client()
    uid = urlsafe_base64_encode(force_bytes(people.amir.pk))
    link = reverse(
        "password_reset_confirm", args=[uid, default_token_generator.make_token(people.amir)]
    )
    form = client.get(link, follow=True)
    assert form.status_code == 200
    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert api_status(old) == 401
    assert api_status(new_token("amir", NEW_PASSWORD)) == 200


def test_a_password_set_in_code_ends_the_token(people):
    old = token_of(people.bella)
    people.bella.set_password(NEW_PASSWORD)
    people.bella.save(update_fields=["password"])
    assert api_status(old) == 401


@pytest.mark.parametrize(
    "change",
    [
        {"role": Role.CASE_OFFICER},
        {"is_staff": True},
        {"is_superuser": True},
    ],
    ids=["role", "staff", "superuser"],
)
def test_a_role_change_ends_the_token(people, change):
    # A firm user's token was issued without a second factor: it may not become a
    # regulator's or an administrator's.
    old = token_of(people.alice)
    for name, value in change.items():
        setattr(people.alice, name, value)
    people.alice.save()
    assert api_status(old) == 401
    assert revocations(people.alice).get().after["changed"] == list(change)


def test_a_removed_member_is_deactivated_and_the_token_ends(people):
    old = token_of(people.amir)
    firms.remove_member(FirmMembership.objects.get(user=people.amir), actor=people.alice)
    people.amir.refresh_from_db()
    assert not people.amir.is_active
    assert api_status(old) == 401
    assert not Token.objects.filter(user=people.amir).exists()
    assert revocations(people.amir).get().after == {"changed": ["is_active"], "tokens": 1}


def test_a_deactivated_user_reactivated_logs_in_for_a_new_token(people):
    old = token_of(people.victor)
    people.victor.is_active = False
    people.victor.save()
    people.victor.is_active = True
    people.victor.save()
    assert api_status(old) == 401
    assert not Token.objects.filter(user=people.victor).exists()


def test_other_changes_and_logins_keep_the_token(people, settings):
    key = token_of(people.alice)
    people.alice.first_name = "Alicia"
    people.alice.email = "alicia@example.test"
    people.alice.save()
    assert Client().login(username="alice", password=PASSWORD)  # stamps last_login
    assert new_token("alice", PASSWORD) == key
    assert api_status(key) == 200
    assert not revocations(people.alice).exists()


def test_a_password_hash_upgraded_at_login_is_no_change(people, settings):
    key = token_of(people.alice)
    settings.PASSWORD_HASHERS = [
        "tests.security.test_token_rotation.QuickPBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert new_token("alice", PASSWORD) == key
    people.alice.refresh_from_db()
    assert people.alice.password.startswith("pbkdf2_quick$")
    assert api_status(key) == 200


def test_an_unusable_password_ends_the_token(people):
    old = token_of(people.alice)
    people.alice.set_unusable_password()
    people.alice.save(update_fields=["password"])
    assert api_status(old) == 401


def test_a_user_without_a_token_changes_without_an_event(people):
    people.bella.role = Role.AUDITOR
    people.bella.save()
    assert not revocations(people.bella).exists()
