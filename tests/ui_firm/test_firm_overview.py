"""The firm's overview for its users, and the read-only firm pages for others."""

import pytest
from django.urls import reverse

from applications.models import (
    FirmMembership,
    MembershipRole,
    Node,
    Personnel,
    ZoneRegistration,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm_a_records(people, project_a, node_a, zone):
    Personnel.objects.create(firm=people.firm_a, name="Priya Shah", role="Site engineer")
    ZoneRegistration.objects.create(
        firm=people.firm_a,
        zone=zone,
        registered_address="Unit 4",
        registration_number="RTP-0417",
        registered_on="2025-01-15",
    )


def test_the_firm_home_summarises_the_firm(people, as_user, firm_a_records, draft_a):
    response = as_user("amir").get(reverse("firm-home"))
    assert response.status_code == 200
    for text in [
        "Firm A",
        "alice",
        "PayChain",
        "validator-1",
        "Priya Shah",
        "RTP-0417",
        draft_a.reference,
    ]:
        assert text.encode() in response.content
    for name in ["members", "projects", "nodes", "personnel", "zone-registrations"]:
        assert reverse(name).encode() in response.content
    assert reverse("case-detail", args=[draft_a.pk]).encode() in response.content


def test_the_firm_home_shows_nothing_of_another_firm(people, as_user, firm_a_records):
    response = as_user("bella").get(reverse("firm-home"))
    assert response.status_code == 200
    assert b"Firm B" in response.content
    for text in [b"PayChain", b"validator-1", b"Priya Shah", b"RTP-0417", b"alice"]:
        assert text not in response.content


def test_a_user_of_two_firms_picks_the_firm(people, as_user, project_a):
    FirmMembership.objects.create(firm=people.firm_b, user=people.alice, role=MembershipRole.MEMBER)
    client = as_user("alice")
    first = client.get(reverse("firm-home"))
    assert first.context["firm"] == people.firm_a
    chosen = client.get(reverse("firm-home"), {"firm": people.firm_b.pk})
    assert chosen.context["firm"] == people.firm_b
    assert not chosen.context["is_admin"]
    assert f"?firm={people.firm_b.pk}".encode() in chosen.content
    projects = client.get(reverse("projects"), {"firm": people.firm_b.pk})
    assert b"PayChain" not in projects.content
    # Member, not admin, of Firm B: no invitations there.
    assert client.get(reverse("member-invite"), {"firm": people.firm_b.pk}).status_code == 403
    response = client.post(
        f"{reverse('node-new')}?firm={people.firm_b.pk}",
        {"label": "b-validator", "endpoint_url": "https://b-validator.firm-b.test:8545"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('nodes')}?firm={people.firm_b.pk}"
    assert Node.objects.get(label="b-validator").firm == people.firm_b


def test_it_answers_404_for_a_firm_the_user_is_not_in(people, as_user):
    client = as_user("alice")
    assert client.get(reverse("firm-home"), {"firm": people.firm_b.pk}).status_code == 404
    assert client.get(reverse("nodes"), {"firm": people.firm_b.pk}).status_code == 404
    assert client.get(reverse("firm-home"), {"firm": "not-a-number"}).status_code == 404


def test_regulators_are_sent_from_the_firm_home_to_the_firm_list(as_user, people):
    response = as_user("olivia").get(reverse("firm-home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("firm-list")


def test_a_regulator_sees_every_firm_read_only(people, as_user, firm_a_records, draft_a):
    client = as_user("olivia")
    listing = client.get(reverse("firm-list"))
    assert b"Firm A" in listing.content and b"Firm B" in listing.content
    detail = client.get(reverse("firm-detail", args=[people.firm_a.pk]))
    assert detail.status_code == 200
    for text in [b"PayChain", b"validator-1", b"Priya Shah", b"RTP-0417"]:
        assert text in detail.content
    assert reverse("node-new").encode() not in detail.content
    assert reverse("members").encode() not in detail.content
    # A draft is the firm's own business until it is submitted.
    assert draft_a.reference.encode() not in detail.content


def test_an_auditor_sees_only_the_firms_of_assigned_cases(people, as_user, submitted_a):
    audrey = as_user("audrey")
    listing = audrey.get(reverse("firm-list"))
    assert b"Firm A" in listing.content and b"Firm B" not in listing.content
    assert audrey.get(reverse("firm-detail", args=[people.firm_a.pk])).status_code == 200
    assert audrey.get(reverse("firm-detail", args=[people.firm_b.pk])).status_code == 404
    ursula = as_user("ursula")
    assert b"Firm A" not in ursula.get(reverse("firm-list")).content
    assert ursula.get(reverse("firm-detail", args=[people.firm_a.pk])).status_code == 404


def test_a_firm_user_cannot_open_another_firms_page(people, as_user):
    response = as_user("bella").get(reverse("firm-detail", args=[people.firm_a.pk]))
    assert response.status_code == 404


def test_staff_see_every_firm(people, as_user):
    client = as_user("staff")
    assert client.get(reverse("firm-detail", args=[people.firm_b.pk])).status_code == 200


def test_a_firm_user_without_an_active_firm_is_told_so(people, as_user):
    from sandbox_portal.accounts.models import Role, User

    loner = User.objects.create_user("loner", "loner@example.test", "pw", role=Role.FIRM)
    client = as_user("alice")
    client.force_login(loner)
    response = client.get(reverse("firm-home"))
    assert response.status_code == 403
    assert b"not an active member of any firm" in response.content


def test_it_sends_anonymous_visitors_to_log_in(client, people):
    for url in [
        reverse("firm-home"),
        reverse("firm-list"),
        reverse("firm-detail", args=[people.firm_a.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_own_memberships_are_the_users_active_ones_only(people):
    from django.contrib.auth.models import AnonymousUser

    from applications import queries

    second = FirmMembership.objects.create(
        firm=people.firm_b, user=people.alice, role=MembershipRole.MEMBER
    )
    assert [m.firm for m in queries.own_memberships(people.alice)] == [
        people.firm_a,
        people.firm_b,
    ]
    second.is_active = False
    second.save()
    assert [m.firm for m in queries.own_memberships(people.alice)] == [people.firm_a]
    assert not queries.own_memberships(people.olivia).exists()
    assert not queries.own_memberships(AnonymousUser()).exists()
