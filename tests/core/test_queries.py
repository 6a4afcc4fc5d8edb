"""Access: every ``*_for`` function in ``applications.queries`` gives a scoped
user their own rows, a user without access none, and staff or a superuser all."""

import inspect
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile

from applications import queries
from applications.models import (
    Application,
    Condition,
    Document,
    EligibilityAnswer,
    Firm,
    FirmMembership,
    FirmReport,
    Node,
    NodeEndpointChange,
    Personnel,
    Project,
    RequestForInformation,
    TierStatus,
    Zone,
    ZoneRegistration,
)
from applications.services import content, firms, lifecycle, node_changes
from sandbox_portal.accounts.models import Role
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import make_user

from .conftest import build_case

# Every function below is tested here; the last test fails if queries.py gains one
# that is not on this list.
TESTED = {
    "applications_for",
    "rfis_for",
    "documents_for",
    "conditions_for",
    "firm_reports_for",
    "eligibility_for",
    "tier_statuses_for",
    "firms_for",
    "projects_for",
    "nodes_for",
    "personnel_for",
    "zone_registrations_for",
    "memberships_for",
    "zones_for",
    "audit_events_for",
    "node_changes_for",
    "pending_node_changes_for",
}


@pytest.fixture
def world(people, project_a, node_a):
    """Two firms, each with a case in the sandbox (with an RFI, a document, a
    condition and a report), a draft, personnel and a zone registration."""
    zone = Zone.objects.create(name="Tech Park", kind="tech_park")
    project_b = firms.save_project(
        people.firm_b, actor=people.bella, fields={"name": "ClearChain", "category": "clearing"}
    )
    node_b = firms.save_node(
        people.firm_b,
        actor=people.bella,
        fields={"label": "b-1", "endpoint_url": "https://node.firm-b.test"},
    )
    cases = {
        "a_live": build_case(people, project_a, "in_sandbox", nodes=[node_a], with_rfi=True),
        "a_draft": build_case(people, project_a, "draft", nodes=[node_a]),
        "b_live": build_case(
            people, project_b, "in_sandbox", nodes=[node_b], with_rfi=True, firm_admin=people.bella
        ),
        "b_draft": build_case(people, project_b, "draft", firm_admin=people.bella),
    }
    content.assign_auditor(cases["a_live"], actor=people.olivia, auditor=people.audrey)
    for key, admin in (("a_live", people.alice), ("a_draft", people.alice)):
        _upload(cases[key], admin)
    for key in ("b_live", "b_draft"):
        _upload(cases[key], people.bella)
    lifecycle.submit_report(
        cases["a_live"], actor=people.alice, kind="periodic", title="A", body="."
    )
    lifecycle.submit_report(
        cases["b_live"], actor=people.bella, kind="periodic", title="B", body="."
    )
    for firm, admin in ((people.firm_a, people.alice), (people.firm_b, people.bella)):
        firms.save_personnel(firm, actor=admin, fields={"name": f"{firm} ops", "role": "Ops"})
        firms.save_zone_registration(
            firm,
            actor=admin,
            fields={
                "zone": zone,
                "registered_address": "1 Park Road",
                "registration_number": f"TP-{firm.pk}",
                "registered_on": "2024-01-02",
            },
        )
    superuser = make_user("root", Role.FIRM, is_superuser=True, is_staff=True)
    return SimpleNamespace(zone=zone, superuser=superuser, **cases)


def _upload(app, actor):
    content.upload_document(
        app,
        actor=actor,
        kind="white_paper",
        uploaded=SimpleUploadedFile(f"paper-{app.pk}.pdf", b"%PDF-1.4\n" + str(app.pk).encode()),
    )


# For each application-scoped function: the model whose rows it returns.
BY_APPLICATION = {
    "applications_for": Application,
    "rfis_for": RequestForInformation,
    "documents_for": Document,
    "conditions_for": Condition,
    "firm_reports_for": FirmReport,
    "eligibility_for": EligibilityAnswer,
    "tier_statuses_for": TierStatus,
}
# For each firm-scoped function: the model whose rows it returns.
BY_FIRM = {
    "firms_for": Firm,
    "projects_for": Project,
    "nodes_for": Node,
    "personnel_for": Personnel,
    "zone_registrations_for": ZoneRegistration,
    "memberships_for": FirmMembership,
}


def rows_of(model, apps):
    """The rows of ``model`` belonging to the cases ``apps``."""
    pks = [a.pk for a in apps]
    if model is Application:
        rows = set(pks)
    else:
        rows = set(model.objects.filter(application_id__in=pks).values_list("pk", flat=True))
    return rows


def firm_rows(model, firms_):
    pks = [f.pk for f in firms_]
    if model is Firm:
        return set(pks)
    return set(model.objects.filter(firm_id__in=pks).values_list("pk", flat=True))


def seen(name, user, *args):
    return set(getattr(queries, name)(user, *args).values_list("pk", flat=True))


def everything(model):
    return set(model.objects.values_list("pk", flat=True))


def expected_cases(world, people, username):
    return {
        "alice": [world.a_live, world.a_draft],
        "amir": [world.a_live, world.a_draft],
        "bella": [world.b_live, world.b_draft],
        "olivia": [world.a_live, world.b_live],
        "victor": [world.a_live, world.b_live],
        "audrey": [world.a_live],
        "ursula": [],
    }[username]


@pytest.mark.parametrize("name", sorted(BY_APPLICATION))
@pytest.mark.parametrize(
    "username", ["alice", "amir", "bella", "olivia", "victor", "audrey", "ursula"]
)
def test_it_scopes_case_objects_to_the_cases_a_user_may_see(world, people, name, username):
    model = BY_APPLICATION[name]
    apps = expected_cases(world, people, username)
    expected = rows_of(model, apps)
    assert expected or not apps, f"the fixture has no {model.__name__} rows to see"
    if username not in ("olivia", "victor"):
        assert everything(model) - expected, "nothing here that the user must not see"
    assert seen(name, getattr(people, username)) == expected


@pytest.mark.parametrize("name", sorted(BY_APPLICATION) + sorted(BY_FIRM) + ["zones_for"])
def test_it_shows_staff_and_a_superuser_every_row(world, people, name):
    model = {**BY_APPLICATION, **BY_FIRM, "zones_for": Zone}[name]
    rows = everything(model)
    assert rows
    assert seen(name, people.staff) == rows
    assert seen(name, world.superuser) == rows


@pytest.mark.parametrize(
    "name", sorted(BY_APPLICATION) + sorted(BY_FIRM) + ["zones_for", "audit_events_for"]
)
def test_it_shows_an_anonymous_or_inactive_user_nothing(world, people, name):
    model = {**BY_APPLICATION, **BY_FIRM, "zones_for": Zone, "audit_events_for": AuditEvent}[name]
    assert everything(model)
    assert seen(name, AnonymousUser()) == set()
    for username in ("alice", "olivia", "audrey", "staff"):
        user = getattr(people, username)
        user.is_active = False
        user.save(update_fields=["is_active"])
        assert seen(name, user) == set(), f"inactive {username} sees {name}"


@pytest.mark.parametrize("name", ["projects_for", "nodes_for", "personnel_for", "firms_for"])
def test_it_scopes_firm_objects_to_the_firms_a_user_may_see(world, people, name):
    model = BY_FIRM[name]
    a, b = people.firm_a, people.firm_b
    expected = {
        "alice": [a],
        "amir": [a],
        "bella": [b],
        "olivia": [a, b],
        "victor": [a, b],
        "audrey": [a],
        "ursula": [],
    }
    for username, firm_list in expected.items():
        rows = firm_rows(model, firm_list)
        assert rows or not firm_list
        assert seen(name, getattr(people, username)) == rows, username


def test_it_scopes_zone_registrations_like_other_firm_objects(world, people):
    a = firm_rows(ZoneRegistration, [people.firm_a])
    b = firm_rows(ZoneRegistration, [people.firm_b])
    assert a and b
    assert seen("zone_registrations_for", people.alice) == a
    assert seen("zone_registrations_for", people.bella) == b
    assert seen("zone_registrations_for", people.olivia) == a | b
    assert seen("zone_registrations_for", people.audrey) == a
    assert seen("zone_registrations_for", people.ursula) == set()


def test_it_shows_memberships_only_to_the_firms_own_users(world, people):
    a = firm_rows(FirmMembership, [people.firm_a])
    b = firm_rows(FirmMembership, [people.firm_b])
    assert len(a) == 2 and len(b) == 1
    assert seen("memberships_for", people.alice) == a
    assert seen("memberships_for", people.amir) == a
    assert seen("memberships_for", people.bella) == b
    for username in ("olivia", "victor", "audrey", "ursula"):
        assert seen("memberships_for", getattr(people, username)) == set()


def test_it_lets_only_a_firm_admin_change_memberships_and_the_firm(world, people):
    a = firm_rows(FirmMembership, [people.firm_a])
    assert seen("memberships_for", people.alice, queries.CHANGE) == a
    assert seen("memberships_for", people.amir, queries.CHANGE) == set()
    assert seen("firms_for", people.alice, queries.CHANGE) == {people.firm_a.pk}
    assert seen("firms_for", people.amir, queries.CHANGE) == set()
    assert seen("firms_for", people.olivia, queries.CHANGE) == set()


def test_it_lets_the_firms_users_change_only_their_own_physical_tier(world, people):
    for name in ("projects_for", "nodes_for", "personnel_for", "zone_registrations_for"):
        model = BY_FIRM[name]
        assert seen(name, people.amir, queries.CHANGE) == firm_rows(model, [people.firm_a])
        assert seen(name, people.olivia, queries.CHANGE) == set()
        assert seen(name, people.audrey, queries.CHANGE) == set()


def test_it_lets_a_firm_change_only_drafts_and_cases_awaiting_it(world, people, case_in):
    waiting = case_in("awaiting_firm")
    assert seen("applications_for", people.amir, queries.CHANGE) == {world.a_draft.pk, waiting.pk}
    assert seen("applications_for", people.olivia, queries.CHANGE) == set()
    assert seen("applications_for", people.staff, queries.CHANGE) == set()


def test_it_shows_zones_to_everyone_signed_in_and_lets_only_staff_change_them(world, people):
    zones = everything(Zone)
    for username in ("alice", "olivia", "audrey", "ursula"):
        assert seen("zones_for", getattr(people, username)) == zones
        assert seen("zones_for", getattr(people, username), queries.CHANGE) == set()
    assert seen("zones_for", people.staff, queries.CHANGE) == zones


def test_it_never_shows_a_regulator_a_draft(world, people):
    drafts = {world.a_draft.pk, world.b_draft.pk}
    for username in ("olivia", "oscar", "victor", "vera"):
        user = getattr(people, username)
        assert not seen("applications_for", user) & drafts
        assert not seen("documents_for", user) & rows_of(Document, [world.a_draft])
        assert not seen("eligibility_for", user) & rows_of(EligibilityAnswer, [world.b_draft])
        assert not queries.audit_events_for(user, world.a_draft).exists()
        draft_events = set(
            AuditEvent.objects.filter(application_id__in=drafts).values_list("pk", flat=True)
        )
        assert draft_events
        assert not seen("audit_events_for", user) & draft_events


def test_it_never_shows_a_regulator_a_draft_the_firm_withdrew(world, people, case_in):
    never_submitted = case_in("withdrawn")
    withdrawn_later = case_in("screening")
    lifecycle.withdraw(withdrawn_later, actor=people.alice, reason="Changed our minds.")
    for username in ("olivia", "victor"):
        visible = seen("applications_for", getattr(people, username))
        assert never_submitted.pk not in visible
        assert withdrawn_later.pk in visible
    assert never_submitted.pk in seen("applications_for", people.alice)
    assert never_submitted.pk in seen("applications_for", people.staff)


def test_it_shows_the_assigned_auditor_exactly_the_assigned_case(world, people):
    assert seen("applications_for", people.audrey) == {world.a_live.pk}
    assert seen("firms_for", people.audrey) == {people.firm_a.pk}
    assert seen("applications_for", people.ursula) == set()
    assert seen("firms_for", people.ursula) == set()
    assert seen("documents_for", people.ursula) == set()


def test_it_removes_access_when_the_auditor_grant_is_revoked(world, people):
    content.assign_auditor(world.a_live, actor=people.olivia, auditor=people.audrey, revoke=True)
    for name in sorted(BY_APPLICATION) + ["firms_for", "projects_for", "nodes_for"]:
        assert seen(name, people.audrey) == set(), name
    assert not queries.audit_events_for(people.audrey, world.a_live).exists()
    assert seen("audit_events_for", people.audrey) == set()


def test_it_shows_a_removed_member_nothing(world, people):
    membership = FirmMembership.objects.get(user=people.amir, firm=people.firm_a)
    firms.remove_member(membership, actor=people.alice)
    amir = type(people.amir).objects.get(pk=people.amir.pk)
    for name in list(BY_APPLICATION) + list(BY_FIRM):
        assert seen(name, amir) == set(), name
    assert seen("audit_events_for", amir) == set()


def test_it_keeps_a_member_removed_from_one_firm_in_the_other(world, people):
    carl = make_user("carl", Role.FIRM)
    FirmMembership.objects.create(firm=people.firm_a, user=carl)
    FirmMembership.objects.create(firm=people.firm_b, user=carl)
    assert seen("applications_for", carl) == {
        world.a_live.pk,
        world.a_draft.pk,
        world.b_live.pk,
        world.b_draft.pk,
    }
    firms.remove_member(
        FirmMembership.objects.get(user=carl, firm=people.firm_a), actor=people.alice
    )
    carl.refresh_from_db()
    assert carl.is_active
    assert seen("applications_for", carl) == {world.b_live.pk, world.b_draft.pk}
    assert seen("projects_for", carl) == firm_rows(Project, [people.firm_b])
    assert seen("memberships_for", carl) == firm_rows(FirmMembership, [people.firm_b])


def _events_of(apps, firm_view=False):
    events = AuditEvent.objects.filter(application_id__in=[a.pk for a in apps])
    if firm_view:
        events = events.exclude(action__in=queries.REGULATOR_INTERNAL_ACTIONS)
    return set(events.values_list("pk", flat=True))


def test_it_shows_each_user_the_timeline_of_the_cases_they_see(world, people):
    for username in ("alice", "amir", "bella", "olivia", "victor", "audrey", "ursula"):
        apps = expected_cases(world, people, username)
        expected = _events_of(apps, firm_view=username in ("alice", "amir", "bella"))
        assert expected or not apps
        assert seen("audit_events_for", getattr(people, username)) == expected, username


def test_it_keeps_the_regulators_deliberation_from_the_firm(world, people):
    internal = AuditEvent.objects.filter(
        application_id=world.a_live.pk, action__in=queries.REGULATOR_INTERNAL_ACTIONS
    )
    assert internal.exists()
    firm_view = seen("audit_events_for", people.alice, world.a_live)
    assert not firm_view & set(internal.values_list("pk", flat=True))
    assert set(internal.values_list("pk", flat=True)) <= seen(
        "audit_events_for", people.olivia, world.a_live
    )


def test_it_shows_one_cases_timeline_only_to_who_may_see_the_case(world, people):
    a_live = _events_of([world.a_live])
    assert a_live
    assert seen("audit_events_for", people.alice, world.a_live) == _events_of(
        [world.a_live], firm_view=True
    )
    assert seen("audit_events_for", people.audrey, world.a_live) == a_live
    assert seen("audit_events_for", people.olivia, world.a_live) == a_live
    assert seen("audit_events_for", people.bella, world.a_live) == set()
    assert seen("audit_events_for", people.ursula, world.a_live) == set()
    assert seen("audit_events_for", people.audrey, world.b_live) == set()


def test_it_shows_staff_and_a_superuser_the_whole_trail(world, people):
    everything_recorded = everything(AuditEvent)
    assert AuditEvent.objects.filter(application_id__isnull=True).exists()
    assert seen("audit_events_for", people.staff) == everything_recorded
    assert seen("audit_events_for", world.superuser) == everything_recorded
    assert seen("audit_events_for", AnonymousUser()) == set()


def test_it_answers_404_for_a_case_outside_the_users_scope(world, people):
    from django.http import Http404
    from django.shortcuts import get_object_or_404

    with pytest.raises(Http404):
        get_object_or_404(queries.applications_for(people.alice), pk=world.b_live.pk)
    assert get_object_or_404(queries.applications_for(people.bella), pk=world.b_live.pk)


def test_it_shows_endpoint_changes_to_the_firm_and_regulators_and_lets_case_officers_decide(
    world, people
):
    for case, actor, url in (
        (world.a_live, people.amir, "https://a-2.firm-a.test"),
        (world.b_live, people.bella, "https://b-2.firm-b.test"),
    ):
        node = case.nodes.get()
        firms.save_node(node.firm, actor=actor, node=node, fields={"endpoint_url": url})
    a = NodeEndpointChange.objects.get(node__firm=people.firm_a).pk
    b = NodeEndpointChange.objects.get(node__firm=people.firm_b).pk
    expected = {
        "alice": {a},
        "amir": {a},
        "bella": {b},
        "olivia": {a, b},
        "victor": {a, b},
        "audrey": set(),
        "ursula": set(),
        "staff": {a, b},
    }
    for username, rows in expected.items():
        assert seen("node_changes_for", getattr(people, username)) == rows, username
    assert seen("node_changes_for", world.superuser) == {a, b}
    assert seen("node_changes_for", AnonymousUser()) == set()
    for username in ("alice", "victor", "staff", "audrey"):
        assert seen("node_changes_for", getattr(people, username), queries.CHANGE) == set()
    assert seen("node_changes_for", people.olivia, queries.CHANGE) == {a, b}

    assert seen("pending_node_changes_for", people.alice, world.a_live) == {a}
    assert seen("pending_node_changes_for", people.bella, world.a_live) == set()
    assert seen("pending_node_changes_for", people.audrey, world.a_live) == set()
    assert seen("pending_node_changes_for", people.olivia, world.b_live) == {b}
    node_changes.refuse_change(
        NodeEndpointChange.objects.get(pk=a), actor=people.olivia, note="No."
    )
    assert seen("pending_node_changes_for", people.olivia, world.a_live) == set()
    people.amir.is_active = False
    people.amir.save(update_fields=["is_active"])
    assert seen("node_changes_for", people.amir) == set()


def test_every_scoping_function_in_queries_is_tested():
    defined = {
        name
        for name, member in inspect.getmembers(queries, inspect.isfunction)
        if name.endswith("_for") and member.__module__ == queries.__name__
    }
    assert defined, "queries.py defines no scoping functions"
    untested = defined - TESTED
    assert not untested, f"add access tests for: {', '.join(sorted(untested))}"
    assert defined >= TESTED, f"no longer in queries.py: {', '.join(sorted(TESTED - defined))}"
