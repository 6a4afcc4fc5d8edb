"""The audit trail: every service leaves an event with its actor, action and
before/after; the hash chain verifies, and tampering or removal is detected."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from applications.models import Condition, FirmMembership, Zone
from applications.services import PermissionDenied, content, firms, lifecycle
from sandbox_portal.audit.models import AuditChainHead, AuditEvent
from sandbox_portal.audit.services import record, verify_chain


def new_events(since):
    return list(AuditEvent.objects.filter(seq__gt=since).order_by("seq"))


def last_seq():
    event = AuditEvent.objects.order_by("-seq").first()
    return event.seq if event else 0


def _content_and_firm_calls(people, case_in):
    """(description, expected action, actor, call) for each service outside the
    lifecycle transitions, which test_lifecycle covers event by event."""
    app = case_in("draft")
    live = case_in("admitted_with_conditions")
    condition = Condition.objects.get(application=live)
    zone = Zone.objects.create(name="Free Zone", kind="free_trade")
    membership = FirmMembership.objects.get(user=people.amir)
    document = {}

    def upload():
        document["doc"] = content.upload_document(
            app,
            actor=people.amir,
            kind="legal_opinion",
            uploaded=SimpleUploadedFile("opinion.txt", b"We are of the opinion that..."),
        )

    project = {}

    def create_project():
        project["p"] = firms.save_project(
            people.firm_a, actor=people.alice, fields={"name": "Next", "category": "trading"}
        )

    return [
        (
            "create_application",
            "application.create",
            people.alice,
            lambda: content.create_application(actor=people.alice, project=app.project),
        ),
        (
            "update_application",
            "application.update",
            people.amir,
            lambda: content.update_application(
                app, actor=people.amir, fields={"hypothesis": "A sharper hypothesis."}
            ),
        ),
        (
            "set_tier_status",
            "tier.set_status",
            people.olivia,
            lambda: content.set_tier_status(
                live, actor=people.olivia, tier="physical", status="satisfied", reason="Visited."
            ),
        ),
        (
            "set_achieved_level",
            "application.set_achieved_level",
            people.olivia,
            lambda: content.set_achieved_level(
                live, actor=people.olivia, level=1, reason="Protocol suite passed."
            ),
        ),
        (
            "assign_case_officer",
            "application.assign_officer",
            people.victor,
            lambda: content.assign_case_officer(live, actor=people.victor, officer=people.oscar),
        ),
        (
            "assign_auditor",
            "application.assign_auditor",
            people.staff,
            lambda: content.assign_auditor(live, actor=people.staff, auditor=people.ursula),
        ),
        (
            "revoke_auditor",
            "application.revoke_auditor",
            people.olivia,
            lambda: content.assign_auditor(
                live, actor=people.olivia, auditor=people.ursula, revoke=True
            ),
        ),
        ("upload_document", "document.upload", people.amir, upload),
        (
            "record_download",
            "document.download",
            people.audrey,
            lambda: content.record_download(document["doc"], actor=people.audrey),
        ),
        (
            "set_condition_status",
            "condition.set_status",
            people.olivia,
            lambda: lifecycle.set_condition_status(
                condition, actor=people.olivia, status="met", note="Officer appointed."
            ),
        ),
        (
            "invite_member",
            "firm.invite_member",
            people.alice,
            lambda: firms.invite_member(
                people.firm_a, actor=people.alice, username="nina", email="nina@firm-a.test"
            ),
        ),
        (
            "remove_member",
            "firm.remove_member",
            people.alice,
            lambda: firms.remove_member(membership, actor=people.alice),
        ),
        ("save_project (create)", "project.create", people.alice, create_project),
        (
            "save_project (update)",
            "project.update",
            people.alice,
            lambda: firms.save_project(
                people.firm_a,
                actor=people.alice,
                project=project["p"],
                fields={"name": "Next", "category": "payment"},
            ),
        ),
        (
            "save_node",
            "node.register",
            people.alice,
            lambda: firms.save_node(
                people.firm_a,
                actor=people.alice,
                fields={"label": "validator-2", "endpoint_url": "https://v2.firm-a.test"},
            ),
        ),
        (
            "save_personnel",
            "personnel.add",
            people.alice,
            lambda: firms.save_personnel(
                people.firm_a, actor=people.alice, fields={"name": "Sam", "role": "SRE"}
            ),
        ),
        (
            "save_zone_registration",
            "zone_registration.create",
            people.alice,
            lambda: firms.save_zone_registration(
                people.firm_a,
                actor=people.alice,
                fields={
                    "zone": zone,
                    "registered_address": "2 Dock Street",
                    "registration_number": "FZ-1",
                    "registered_on": datetime.date(2024, 5, 1),
                },
            ),
        ),
    ]


def test_every_service_writes_an_event_with_actor_action_and_change(people, case_in):
    for description, action, actor, call in _content_and_firm_calls(people, case_in):
        since = last_seq()
        call()
        events = [e for e in new_events(since) if e.action == action]
        assert len(events) == 1, f"{description}: expected one {action} event"
        event = events[0]
        assert event.actor_id == actor.pk, description
        assert event.actor_name == actor.username, description
        assert event.after, f"{description}: no 'after'"
        assert event.object_type and event.object_id, description
    assert verify_chain().intact


def test_it_records_what_an_edit_changed_and_nothing_else(people, case_in):
    app = case_in("draft")
    since = last_seq()
    content.update_application(
        app, actor=people.alice, fields={"customer_cap": 900}, answers={"in_scope": "Changed."}
    )
    (event,) = new_events(since)
    assert event.before == {
        "customer_cap": 500,
        "eligibility.in_scope": "Our answer on In scope.",
    }
    assert event.after == {"customer_cap": 900, "eligibility.in_scope": "Changed."}


def test_every_lifecycle_transition_writes_an_event(people, case_in):
    app = case_in("exited", with_rfi=True)
    actions = set(AuditEvent.objects.filter(application_id=app.pk).values_list("action", flat=True))
    for transition in (
        "submit",
        "start_screening",
        "accept_for_review",
        "request_information",
        "answer_information",
        "assess_eligibility",
        "send_to_testing",
        "send_to_evaluation",
        "recommend",
        "decide",
        "start_sandbox",
        "submit_report",
        "start_exit_review",
        "close_exit",
    ):
        assert f"application.{transition}" in actions
    for event in AuditEvent.objects.filter(application_id=app.pk):
        assert event.actor_id is not None


def test_the_chain_verifies_and_the_command_says_it_is_intact(people, case_in, capsys):
    case_in("in_sandbox")
    report = verify_chain()
    assert report.intact
    assert report.checked == AuditEvent.objects.count() > 10
    call_command("verify_audit")
    assert f"Audit trail intact: {report.checked} events." in capsys.readouterr().out


def test_it_chains_each_event_to_the_one_before(people, case_in):
    case_in("submitted")
    events = list(AuditEvent.objects.order_by("seq"))
    assert events[0].prev_hash == "0" * 64
    for before, after in zip(events, events[1:], strict=False):
        assert after.seq == before.seq + 1
        assert after.prev_hash == before.hash
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (events[-1].seq, events[-1].hash)


def _tamper_after(seq, value):
    table = AuditEvent._meta.db_table
    cast = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE {table} SET "after" = {cast} WHERE seq = %s', [value, seq])


def test_it_detects_an_event_edited_in_the_database(people, case_in):
    app = case_in("recommended")
    edited = AuditEvent.objects.get(application_id=app.pk, action="application.recommend")
    _tamper_after(edited.seq, '{"state": "recommended", "recommendation": "reject"}')
    edited.refresh_from_db()
    assert edited.after["recommendation"] == "reject"  # the edit reached the database

    report = verify_chain()
    assert not report.intact
    assert report.broken_seq == edited.seq
    with pytest.raises(CommandError, match=rf"broken at event #{edited.seq}\b"):
        call_command("verify_audit")


def test_it_detects_an_event_deleted_from_the_middle(people, case_in):
    case_in("evaluation")
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    middle = seqs[len(seqs) // 2]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE seq = %s", [middle])
    assert not AuditEvent.objects.filter(seq=middle).exists()

    report = verify_chain()
    assert not report.intact
    assert report.broken_seq == middle + 1
    with pytest.raises(CommandError, match=rf"#{middle + 1}\b"):
        call_command("verify_audit")


def test_it_detects_the_last_event_deleted(people, case_in):
    case_in("submitted")
    last = last_seq()
    AuditEvent.objects.filter(seq=last).delete()
    report = verify_chain()
    assert not report.intact
    assert report.broken_seq == last
    with pytest.raises(CommandError, match="missing"):
        call_command("verify_audit")


def test_it_detects_the_whole_trail_deleted(people, case_in):
    case_in("submitted")
    last = last_seq()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table}")
    report = verify_chain()
    assert not report.intact
    assert report.broken_seq == last
    with pytest.raises(CommandError, match="missing"):
        call_command("verify_audit")


def test_it_detects_a_chain_head_that_no_longer_matches(people, case_in):
    case_in("submitted")
    AuditChainHead.objects.all().delete()
    report = verify_chain()
    assert not report.intact
    assert "head" in report.problem


def test_it_reports_an_empty_trail_intact(db, capsys):
    assert verify_chain().intact
    call_command("verify_audit")
    assert "intact: 0 events" in capsys.readouterr().out


def test_it_detects_an_event_rehashed_after_an_edit(people, case_in):
    # Recomputing the edited event's own hash does not help: the next event's link breaks.
    case_in("screening")
    victim = AuditEvent.objects.order_by("seq")[2]
    victim.reason = "rewritten"
    victim.hash = victim.compute_hash()
    AuditEvent.objects.filter(pk=victim.pk).update(reason=victim.reason, hash=victim.hash)
    report = verify_chain()
    assert not report.intact
    assert report.broken_seq == victim.seq + 1


def test_a_rolled_back_transaction_leaves_no_event(people, case_in):
    app = case_in("submitted")
    since = last_seq()
    head = AuditChainHead.objects.values_list("last_seq", "last_hash").get(pk=1)
    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.start_screening(app, actor=people.olivia)
        assert new_events(since), "the event is written inside the transaction"
        raise RuntimeError("something failed after the change")
    assert new_events(since) == []
    assert AuditChainHead.objects.values_list("last_seq", "last_hash").get(pk=1) == head
    app.refresh_from_db()
    assert app.state == "submitted"
    # The chain carries on from where it was.
    event = record(actor=people.staff, action="test.after_rollback")
    assert event.seq == since + 1
    assert verify_chain().intact


def test_a_refused_service_leaves_no_event(people, case_in):
    app = case_in("submitted")
    since = last_seq()
    with pytest.raises(PermissionDenied):
        lifecycle.start_screening(app, actor=people.alice)
    assert new_events(since) == []


def test_it_records_a_login(client, people):
    since = last_seq()
    assert client.login(username="olivia", password="pw")
    (event,) = new_events(since)
    assert event.action == "auth.login"
    assert event.actor_id == people.olivia.pk


def test_it_records_a_failed_login(client, people):
    since = last_seq()
    response = client.post("/accounts/login/", {"username": "olivia", "password": "wrong"})
    assert response.status_code == 200  # the form again, not a redirect
    assert "_auth_user_id" not in client.session
    events = [e for e in new_events(since) if e.action == "auth.login_failed"]
    assert len(events) == 1
    assert events[0].actor_id is None
    assert events[0].after == {"username": "olivia"}
    assert verify_chain().intact


def test_it_records_a_logout(client, people):
    client.login(username="amir", password="pw")
    since = last_seq()
    client.post("/accounts/logout/")
    assert [e.action for e in new_events(since)] == ["auth.logout"]
