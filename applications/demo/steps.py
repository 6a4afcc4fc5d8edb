"""A demo case and the lifecycle steps that bring it to its stage. Each step
calls the service a real user would, acting as that user."""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from ..models import Application, Criterion
from ..services import content, lifecycle
from . import evidence


@dataclass
class Case:
    """One demo case: its content and the steps that bring it to its stage."""

    firm: str
    project: str
    author: str
    fields: dict
    answers: dict
    documents: list = field(default_factory=list)
    nodes: list = field(default_factory=list)
    steps: list = field(default_factory=list)


def days_from_today(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def submit(by):
    return lambda app, cast: lifecycle.submit(app, actor=cast[by])


def screen(note):
    def step(app, cast):
        app = lifecycle.start_screening(app, actor=cast["olivia"])
        return lifecycle.accept_for_review(app, actor=cast["olivia"], note=note)

    return step


def start_screening():
    return lambda app, cast: lifecycle.start_screening(app, actor=cast["olivia"])


def assess(rationales, outcomes=None):
    """The case officer's rubric: ``rationales`` per criterion, all met unless
    ``outcomes`` says otherwise."""

    def step(app, cast):
        assessments = {
            c.value: ((outcomes or {}).get(c.value, "met"), rationales[c.value])
            for c in Criterion
            if c.value in rationales
        }
        return lifecycle.assess_eligibility(app, actor=cast["olivia"], assessments=assessments)

    return step


def ask(question, due_in_days):
    return lambda app, cast: lifecycle.request_information(
        app, actor=cast["olivia"], question=question, due_date=days_from_today(due_in_days)
    )


def answer(by, text):
    return lambda app, cast: lifecycle.answer_information(app, actor=cast[by], answer=text)


def to_testing(note):
    return lambda app, cast: lifecycle.send_to_testing(app, actor=cast["olivia"], note=note)


def tier(name, status, reason):
    return lambda app, cast: content.set_tier_status(
        app, actor=cast["olivia"], tier=name, status=status, reason=reason
    )


def run_tests():
    """Run the case's test plan on the reference node (``evidence``). The loader takes
    this step only when the node answers."""

    def step(app, cast):
        evidence.run_test_plan(app, cast["olivia"])
        return Application.objects.get(pk=app.pk)

    step.needs_reference_node = True
    return step


def achieved(level, reason):
    """Set the achieved level, citing what the case's latest test run measured."""

    def step(app, cast):
        text = " ".join(part for part in (reason, evidence.measured(app)) if part)
        return content.set_achieved_level(app, actor=cast["olivia"], level=level, reason=text)

    return step


def to_evaluation(note):
    return lambda app, cast: lifecycle.send_to_evaluation(app, actor=cast["olivia"], note=note)


def recommend(outcome, rationale):
    """Issue an access evaluation of the case, then recommend citing it."""

    def step(app, cast):
        from assessments.evaluations.services import issue_evaluation_for

        evaluation = issue_evaluation_for(app, cast["olivia"])
        return lifecycle.recommend(
            app,
            actor=cast["olivia"],
            recommendation=outcome,
            rationale=rationale,
            evaluation=evaluation,
        )

    return step


def decide(outcome, rationale, conditions=(), parameters=None):
    return lambda app, cast: lifecycle.decide(
        app,
        actor=cast["victor"],
        outcome=outcome,
        rationale=rationale,
        conditions=[(text, days_from_today(days)) for text, days in conditions],
        testing_parameters=parameters,
    )


def start_sandbox():
    return lambda app, cast: lifecycle.start_sandbox(app, actor=cast["olivia"])


def periodic_report(by, title, body):
    return lambda app, cast: lifecycle.submit_report(
        app,
        actor=cast[by],
        kind="periodic",
        title=title,
        body=body,
        period_start=app.test_start,
        period_end=days_from_today(-1),
    )


def assign_auditor(username):
    def step(app, cast):
        content.assign_auditor(app, actor=cast["olivia"], auditor=cast[username])
        return Application.objects.get(pk=app.pk)

    return step


def withdraw(by, reason):
    return lambda app, cast: lifecycle.withdraw(app, actor=cast[by], reason=reason)
