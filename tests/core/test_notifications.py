"""Mail goes to the people a case concerns, only after the change commits."""

import pytest
from django.db import transaction

from applications import tasks
from applications.models import Condition
from applications.services import lifecycle

from .conftest import in_days

FIRM_A = ["alice@example.test", "amir@example.test"]
ALL_OFFICERS = ["olivia@example.test", "oscar@example.test"]


def mail_to(outbox, subject_part):
    found = [m for m in outbox if subject_part in m.subject]
    assert len(found) == 1, f"expected one mail about {subject_part!r}, got {len(found)}"
    return found[0]


def test_it_tells_the_officers_and_the_firm_of_a_submission(
    people, case_in, mailoutbox, django_capture_on_commit_callbacks
):
    app = case_in("draft")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.submit(app, actor=people.alice)
        assert mailoutbox == [], "nothing is sent before the transaction commits"
    assert len(mailoutbox) == 2
    officers = mail_to(mailoutbox, "New application")
    assert sorted(officers.to) == ALL_OFFICERS
    assert f"/cases/{app.pk}/" in officers.body
    firm = mail_to(mailoutbox, "Your application was submitted")
    assert sorted(firm.to) == FIRM_A
    assert "bella@example.test" not in officers.to + firm.to


def test_it_asks_the_firm_when_information_is_requested(
    people, case_in, mailoutbox, django_capture_on_commit_callbacks
):
    app = case_in("under_review")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.request_information(
            app, actor=people.olivia, question="Who runs node 2?", due_date=in_days(14)
        )
    (mail,) = mailoutbox
    assert sorted(mail.to) == FIRM_A
    assert "Who runs node 2?" in mail.body
    assert app.reference in mail.subject


def test_it_tells_the_officer_when_the_firm_answers(
    people, case_in, mailoutbox, django_capture_on_commit_callbacks
):
    app = case_in("awaiting_firm")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.answer_information(app, actor=people.amir, answer="Our SRE team.")
    (mail,) = mailoutbox
    assert mail.to == ["olivia@example.test"]  # the case officer, who also raised it
    assert "Our SRE team." in mail.body


def test_it_tells_the_raiser_and_the_officer_when_they_differ(
    people, case_in, mailoutbox, django_capture_on_commit_callbacks
):
    app = case_in("under_review")
    lifecycle.request_information(app, actor=people.victor, question="Capital?")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.answer_information(app, actor=people.alice, answer="Enough.")
    (mail,) = mailoutbox
    assert sorted(mail.to) == ["olivia@example.test", "victor@example.test"]


def test_it_tells_the_approvers_of_a_recommendation(
    people, case_in, mailoutbox, django_capture_on_commit_callbacks
):
    app = case_in("evaluation")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.recommend(app, actor=people.olivia, recommendation="admit", rationale="Good.")
    (mail,) = mailoutbox
    assert sorted(mail.to) == ["vera@example.test", "victor@example.test"]


def test_it_tells_the_firm_and_the_officer_of_the_decision(
    people, case_in, mailoutbox, django_capture_on_commit_callbacks
):
    app = case_in("recommended")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.decide(
            app,
            actor=people.victor,
            outcome="admit_with_conditions",
            rationale="Admitted with care.",
            conditions=[("Quarterly audit", in_days(90))],
        )
    (mail,) = mailoutbox
    assert sorted(mail.to) == sorted(FIRM_A + ["olivia@example.test"])
    assert "Admit with conditions" in mail.subject
    assert "Quarterly audit" in mail.body
    assert "Admitted with care." in mail.body


def test_it_sends_nothing_when_the_transaction_rolls_back(
    people, case_in, mailoutbox, django_capture_on_commit_callbacks
):
    app = case_in("recommended")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        lifecycle.decide(app, actor=people.victor, outcome="admit", rationale="Yes.")
        raise RuntimeError("a later step of the same request failed")
    assert callbacks == []
    assert mailoutbox == []
    app.refresh_from_db()
    assert app.state == "recommended"


def test_it_sends_nothing_when_the_service_fails_after_its_change(
    people, case_in, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    app = case_in("draft")

    def audit_fails(*args, **kwargs):
        raise RuntimeError("the audit trail is unavailable")

    monkeypatch.setattr(lifecycle, "_record_move", audit_fails)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        lifecycle.submit(app, actor=people.alice)
    assert mailoutbox == []
    app.refresh_from_db()
    assert app.state == "draft"
    assert app.submitted_at is None


def test_a_mail_outage_does_not_undo_the_change(
    people, case_in, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "tests.core.test_notifications.BrokenBackend"
    app = case_in("draft")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.submit(app, actor=people.alice)
    app.refresh_from_db()
    assert app.state == "submitted"


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP is down")


@pytest.fixture
def conditions(people, case_in):
    """One case admitted with four conditions: due soon, due later, overdue, already met."""
    app = case_in("recommended")
    lifecycle.decide(
        app,
        actor=people.victor,
        outcome="admit_with_conditions",
        rationale="Admitted.",
        conditions=[
            ("Due in three days", in_days(3)),
            ("Due in two months", in_days(60)),
            ("Overdue", in_days(1)),
            ("Met already", in_days(1)),
        ],
    )
    Condition.objects.filter(application=app, text="Overdue").update(due_date=in_days(-2))
    by_text = {c.text: c for c in Condition.objects.filter(application=app)}
    lifecycle.set_condition_status(by_text["Met already"], actor=people.olivia, status="met")
    return by_text


def test_it_reminds_the_firm_and_officer_once_of_conditions_falling_due(
    people, conditions, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.remind_due_conditions() == 2
    assert len(mailoutbox) == 2
    texts = sorted(m.body.split("\n\n")[1] for m in mailoutbox)
    assert texts == ["Due in three days", "Overdue"]
    for mail in mailoutbox:
        assert sorted(mail.to) == sorted(FIRM_A + ["olivia@example.test"])
    for text, condition in conditions.items():
        condition.refresh_from_db()
        assert (condition.reminded_at is not None) == (text in ("Due in three days", "Overdue"))

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.remind_due_conditions() == 0
    assert len(mailoutbox) == 2, "a second run reminds nobody again"


def test_it_does_not_remind_when_the_reminder_is_rolled_back(
    people, conditions, mailoutbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        tasks.remind_due_conditions()
        raise RuntimeError("the run was interrupted")
    assert mailoutbox == []
    assert not Condition.objects.filter(reminded_at__isnull=False).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.remind_due_conditions() == 2
    assert len(mailoutbox) == 2


def test_it_mails_an_invited_member_a_link_to_set_a_password(
    people, mailoutbox, django_capture_on_commit_callbacks
):
    from applications.services import firms

    with django_capture_on_commit_callbacks(execute=True):
        firms.invite_member(
            people.firm_a, actor=people.alice, username="nina", email="nina@firm-a.test"
        )
    (mail,) = mailoutbox
    assert mail.to == ["nina@firm-a.test"]
    assert "/accounts/password/reset/" in mail.body
