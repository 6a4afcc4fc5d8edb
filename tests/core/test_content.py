"""The case's content and the firm's records: who may change them, when, and
what bad input is refused without changing anything."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from applications.models import Application, FirmMembership, Node, Project, Zone
from applications.services import (
    IllegalTransition,
    PermissionDenied,
    ValidationError,
    content,
    firms,
)
from sandbox_portal.audit.models import AuditEvent


def trail():
    return list(AuditEvent.objects.values_list("seq", flat=True))


# (description, who is refused, the case's state, the call)
CONTENT_CALLS = [
    (
        "create_application",
        ["bella", "olivia", "audrey", "staff"],
        "draft",
        lambda app, user: content.create_application(actor=user, project=app.project),
    ),
    (
        "update_application",
        ["bella", "olivia", "audrey", "staff"],
        "draft",
        lambda app, user: content.update_application(app, actor=user, fields={"summary": "x"}),
    ),
    (
        "set_tier_status",
        ["alice", "audrey", "staff"],
        "under_review",
        lambda app, user: content.set_tier_status(
            app, actor=user, tier="physical", status="satisfied", reason="Visited."
        ),
    ),
    (
        "set_achieved_level",
        ["alice", "audrey", "staff"],
        "technical_testing",
        lambda app, user: content.set_achieved_level(app, actor=user, level=1, reason="Passed."),
    ),
    (
        "assign_case_officer",
        ["alice", "audrey", "staff"],
        "submitted",
        lambda app, user: content.assign_case_officer(app, actor=user, officer=user),
    ),
    (
        "assign_auditor",
        ["alice", "amir", "audrey"],
        "submitted",
        lambda app, user: content.assign_auditor(app, actor=user, auditor=user),
    ),
    (
        "upload_document",
        ["bella", "audrey", "staff"],
        "submitted",
        lambda app, user: content.upload_document(
            app, actor=user, kind="other", uploaded=SimpleUploadedFile("a.txt", b"hello")
        ),
    ),
]


@pytest.mark.parametrize(
    "description, username, state, call",
    [(d, who, state, call) for d, people, state, call in CONTENT_CALLS for who in people],
)
def test_it_refuses_a_content_change_to_the_wrong_role(
    people, case_in, description, username, state, call
):
    app = case_in(state)
    before = trail()
    apps = Application.objects.count()
    with pytest.raises(PermissionDenied):
        call(app, getattr(people, username))
    assert trail() == before
    assert Application.objects.count() == apps


def _firm_calls(people):
    zone = Zone.objects.create(name="FSZ", kind="financial_security")
    return [
        (
            "invite_member",
            ["amir", "bella", "olivia", "staff"],
            lambda user: firms.invite_member(
                people.firm_a, actor=user, username="zed", email="zed@firm-a.test"
            ),
        ),
        (
            "remove_member",
            ["amir", "bella", "olivia", "staff"],
            lambda user: firms.remove_member(
                FirmMembership.objects.get(user=people.amir), actor=user
            ),
        ),
        (
            "save_project",
            ["bella", "olivia", "audrey"],
            lambda user: firms.save_project(
                people.firm_a, actor=user, fields={"name": "X", "category": "other"}
            ),
        ),
        (
            "save_node",
            ["bella", "olivia", "audrey"],
            lambda user: firms.save_node(
                people.firm_a,
                actor=user,
                fields={"label": "n", "endpoint_url": "https://n.firm-a.test"},
            ),
        ),
        (
            "save_personnel",
            ["bella", "olivia", "audrey"],
            lambda user: firms.save_personnel(
                people.firm_a, actor=user, fields={"name": "Kim", "role": "Ops"}
            ),
        ),
        (
            "save_zone_registration",
            ["amir", "bella", "olivia", "audrey"],
            lambda user: firms.save_zone_registration(
                people.firm_a,
                actor=user,
                fields={
                    "zone": zone,
                    "registered_address": "1 Road",
                    "registration_number": "Z-1",
                    "registered_on": "2024-01-01",
                },
            ),
        ),
    ]


def test_it_refuses_a_firm_change_to_anyone_outside_the_firm_or_not_its_admin(people):
    failures = []
    for description, usernames, call in _firm_calls(people):
        for username in usernames:
            before = trail()
            try:
                call(getattr(people, username))
            except PermissionDenied:
                pass
            else:
                failures.append(f"{description} by {username} was allowed")
            if trail() != before:
                failures.append(f"{description} by {username} changed the audit trail")
    assert not failures, "\n".join(failures)
    assert FirmMembership.objects.get(user=people.amir).is_active


def test_it_lets_the_firms_admin_make_every_firm_change(people):
    for description, _, call in _firm_calls(people):
        before = len(trail())
        call(people.alice)
        assert len(trail()) > before, description


def test_it_refuses_to_edit_a_case_that_is_not_a_draft_or_awaiting_the_firm(people, case_in):
    app = case_in("under_review")
    with pytest.raises(IllegalTransition):
        content.update_application(app, actor=people.alice, fields={"summary": "Sneaky edit."})
    app.refresh_from_db()
    assert app.summary != "Sneaky edit."


def test_it_lets_the_firm_edit_while_answering_an_rfi(people, case_in):
    app = case_in("awaiting_firm")
    content.update_application(app, actor=people.amir, fields={"summary": "Clarified."})
    app.refresh_from_db()
    assert app.summary == "Clarified."


def test_it_refuses_unknown_fields_and_invalid_values(people, case_in):
    app = case_in("draft")
    with pytest.raises(ValidationError, match="Unknown fields: state"):
        content.update_application(app, actor=people.alice, fields={"state": "admitted"})
    with pytest.raises(ValidationError):
        content.update_application(app, actor=people.alice, fields={"target_level": 9})
    app.refresh_from_db()
    assert (app.state, app.target_level) == ("draft", 2)


def test_it_refuses_to_test_a_node_of_another_firm(people, case_in, project_a):
    app = case_in("draft")
    node_b = Node.objects.create(firm=people.firm_b, label="b", endpoint_url="https://b.test")
    with pytest.raises(ValidationError, match="own server station"):
        content.update_application(app, actor=people.alice, nodes=[node_b])
    with pytest.raises(ValidationError, match="own server station"):
        content.create_application(actor=people.alice, project=project_a, nodes=[node_b])
    assert list(app.nodes.all()) != [node_b]


@pytest.mark.parametrize("level", [7, -1, "three", None])
def test_it_refuses_an_achieved_level_that_does_not_exist(people, case_in, level):
    app = case_in("technical_testing")
    before = trail()
    with pytest.raises(ValidationError, match="L0 to L3"):
        content.set_achieved_level(app, actor=people.olivia, level=level, reason="Evidence.")
    app.refresh_from_db()
    assert app.achieved_level == 0
    assert trail() == before


def test_it_records_the_achieved_level_the_evidence_supports(people, case_in):
    app = case_in("technical_testing")
    content.set_achieved_level(app, actor=people.olivia, level="2", reason="Suites passed.")
    app.refresh_from_db()
    assert app.achieved_level == 2


@pytest.mark.parametrize("state", ["draft", "rejected", "withdrawn", "exited"])
def test_it_refuses_level_tier_and_officer_changes_on_a_draft_or_closed_case(
    people, case_in, state
):
    app = case_in(state)
    before = trail()
    with pytest.raises(IllegalTransition):
        content.set_achieved_level(app, actor=people.olivia, level=1, reason="Evidence.")
    with pytest.raises(IllegalTransition):
        content.set_tier_status(
            app, actor=people.olivia, tier="physical", status="waived", reason="N/A."
        )
    with pytest.raises(IllegalTransition):
        content.assign_case_officer(app, actor=people.victor, officer=people.oscar)
    assert trail() == before


def test_it_refuses_to_assign_an_auditor_to_a_draft_or_a_non_auditor(people, case_in):
    with pytest.raises(IllegalTransition):
        content.assign_auditor(case_in("draft"), actor=people.olivia, auditor=people.ursula)
    with pytest.raises(ValidationError, match="auditor"):
        content.assign_auditor(case_in("submitted"), actor=people.olivia, auditor=people.alice)


def test_it_refuses_an_officer_who_is_not_an_active_case_officer(people, case_in):
    app = case_in("submitted")
    with pytest.raises(ValidationError):
        content.assign_case_officer(app, actor=people.olivia, officer=people.victor)
    people.oscar.is_active = False
    people.oscar.save()
    with pytest.raises(ValidationError):
        content.assign_case_officer(app, actor=people.olivia, officer=people.oscar)


def test_it_keeps_at_least_one_admin_in_a_firm(people):
    with pytest.raises(ValidationError, match="at least one admin"):
        firms.remove_member(FirmMembership.objects.get(user=people.alice), actor=people.alice)
    assert FirmMembership.objects.get(user=people.alice).is_active


def test_it_refuses_a_username_that_is_taken(people):
    with pytest.raises(ValidationError, match="taken"):
        firms.invite_member(
            people.firm_a, actor=people.alice, username="OLIVIA", email="x@firm-a.test"
        )


def test_it_refuses_a_node_whose_endpoint_is_not_a_url(people):
    with pytest.raises(ValidationError):
        firms.save_node(
            people.firm_a,
            actor=people.alice,
            fields={"label": "bad", "endpoint_url": "file:///etc/passwd"},
        )
    assert not Node.objects.filter(label="bad").exists()


def test_it_refuses_to_edit_another_firms_project_through_ones_own(people):
    project_b = Project.objects.create(firm=people.firm_b, name="B's", category="other")
    with pytest.raises(PermissionDenied, match="another firm"):
        firms.save_project(
            people.firm_a,
            actor=people.alice,
            project=project_b,
            fields={"name": "Taken over", "category": "other"},
        )
    project_b.refresh_from_db()
    assert project_b.name == "B's"
