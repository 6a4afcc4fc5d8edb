"""A firm admin invites and removes members; members only see the list."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from applications.models import FirmMembership
from sandbox_portal.accounts.models import User
from sandbox_portal.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Ledger-Harbour-Quartz-58"


def invite(client, **overrides):
    data = {
        "username": "nadia",
        "email": "nadia@firm-a.test",
        "first_name": "Nadia",
        "last_name": "Khan",
        "role": "member",
        **overrides,
    }
    return client.post(reverse("member-invite"), data)


def membership_of(people, name):
    return FirmMembership.objects.get(user=getattr(people, name))


def test_the_admin_invites_a_member_who_sets_a_password_and_logs_in(
    people, as_user, django_capture_on_commit_callbacks
):
    admin = as_user("alice")
    assert admin.get(reverse("member-invite")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(admin)
    assert response.status_code == 302
    assert response["Location"] == reverse("members")
    nadia = User.objects.get(username="nadia")
    assert nadia.is_firm_user and not nadia.has_usable_password()
    membership = FirmMembership.objects.get(user=nadia)
    assert (membership.firm, membership.role, membership.invited_by) == (
        people.firm_a,
        "member",
        people.alice,
    )
    assert AuditEvent.objects.filter(action="firm.invite_member").exists()
    assert b"nadia" in admin.get(reverse("members")).content

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nadia@firm-a.test"]
    link = re.search(r"https?://\S+", message.body).group(0)
    assert link.startswith(settings.SITE_URL)
    path = link[len(settings.SITE_URL) :]

    visitor = Client()
    response = visitor.get(path)
    assert response.status_code == 302  # the token moves into the session
    set_password_url = response["Location"]
    assert visitor.get(set_password_url).status_code == 200
    response = visitor.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_complete")

    response = visitor.post(reverse("login"), {"username": "nadia", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert visitor.get(reverse("members")).status_code == 200


def test_the_invitation_link_works_only_once(people, as_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(as_user("alice"))
    path = re.search(r"https?://\S+", mail.outbox[0].body).group(0)[len(settings.SITE_URL) :]
    first = Client()
    set_password_url = first.get(path)["Location"]
    first.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    second = Client()
    response = second.get(path)
    # A used token is not redirected to the set-password form.
    assert response.status_code == 200
    assert not response.context["validlink"]


def test_it_refuses_an_invitation_with_a_taken_username(people, as_user):
    before = (User.objects.count(), FirmMembership.objects.count())
    response = invite(as_user("alice"), username="AMIR")
    assert response.status_code == 400
    assert b"is taken" in response.content
    assert (User.objects.count(), FirmMembership.objects.count()) == before
    assert not mail.outbox


def test_it_refuses_an_invitation_without_an_email(people, as_user):
    before = User.objects.count()
    response = invite(as_user("alice"), email="")
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    assert User.objects.count() == before


def test_a_member_sees_the_list_but_cannot_invite(people, as_user):
    client = as_user("amir")
    page = client.get(reverse("members"))
    assert page.status_code == 200
    assert b"alice" in page.content
    assert reverse("member-invite").encode() not in page.content
    assert b"Remove" not in page.content
    assert client.get(reverse("member-invite")).status_code == 403
    before = User.objects.count()
    response = invite(client)
    assert response.status_code == 403
    assert b"Only the firm&#x27;s admin can invite members." in response.content
    assert User.objects.count() == before


def test_the_admin_removes_a_member_who_can_no_longer_log_in(people, as_user):
    target = membership_of(people, "amir")
    admin = as_user("alice")
    confirm = admin.get(reverse("member-remove", args=[target.pk]))
    assert confirm.status_code == 200
    assert b"Remove member" in confirm.content
    target.refresh_from_db()
    assert target.is_active  # a GET changes nothing

    response = admin.post(reverse("member-remove", args=[target.pk]))
    assert response.status_code == 302
    target.refresh_from_db()
    assert not target.is_active and target.removed_at is not None
    amir = User.objects.get(username="amir")  # nothing deleted
    assert not amir.is_active
    assert AuditEvent.objects.filter(action="firm.remove_member").exists()
    assert not Client().login(username="amir", password="pw")
    response = Client().post(reverse("login"), {"username": "amir", "password": "pw"})
    assert response.status_code == 200  # the login form again, with an error
    assert b"Removed" in admin.get(reverse("members")).content


def test_a_removed_members_open_session_no_longer_works(people, as_user):
    amir = as_user("amir")
    assert amir.get(reverse("members")).status_code == 200
    as_user("alice").post(reverse("member-remove", args=[membership_of(people, "amir").pk]))
    response = amir.get(reverse("members"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_member_cannot_remove_anyone(people, as_user):
    target = membership_of(people, "alice")
    client = as_user("amir")
    assert client.get(reverse("member-remove", args=[target.pk])).status_code == 403
    assert client.post(reverse("member-remove", args=[target.pk])).status_code == 403
    target.refresh_from_db()
    assert target.is_active


def test_another_firms_admin_cannot_see_or_remove_a_member(people, as_user):
    target = membership_of(people, "amir")
    client = as_user("bella")
    assert client.get(reverse("member-remove", args=[target.pk])).status_code == 404
    assert client.post(reverse("member-remove", args=[target.pk])).status_code == 404
    target.refresh_from_db()
    assert target.is_active
    assert b"amir" not in client.get(reverse("members")).content


def test_the_last_admin_cannot_remove_themselves(people, as_user):
    target = membership_of(people, "bella")
    response = as_user("bella").post(reverse("member-remove", args=[target.pk]))
    assert response.status_code == 400
    assert b"A firm keeps at least one admin." in response.content
    target.refresh_from_db()
    assert target.is_active


def test_it_sends_anonymous_visitors_to_log_in(client, people):
    target = membership_of(people, "amir")
    for url in [
        reverse("members"),
        reverse("member-invite"),
        reverse("member-remove", args=[target.pk]),
    ]:
        response = client.post(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    target.refresh_from_db()
    assert target.is_active
