"""Cases built through the services in any state, for the core's tests."""

import datetime

import pytest

from applications.models import Criterion, FirmReportKind
from applications.services import content, lifecycle
from assessments.evaluations.services import issue_evaluation_for
from tests.conftest import complete_fields

# The main path a case walks; each state is reached from the one before it.
MAIN_PATH = [
    "draft",
    "submitted",
    "screening",
    "under_review",
    "technical_testing",
    "evaluation",
    "recommended",
    "admitted_with_conditions",
    "in_sandbox",
    "exit_review",
    "exited",
]
DECISION_STATES = {
    "admitted": "admit",
    "admitted_with_conditions": "admit_with_conditions",
    "rejected": "reject",
}
ALL_STATES = [
    "draft",
    "submitted",
    "screening",
    "under_review",
    "awaiting_firm",
    "technical_testing",
    "evaluation",
    "recommended",
    "admitted",
    "admitted_with_conditions",
    "rejected",
    "in_sandbox",
    "exit_review",
    "exited",
    "withdrawn",
]
PRE_DECISION_STATES = [
    "draft",
    "submitted",
    "screening",
    "under_review",
    "awaiting_firm",
    "technical_testing",
    "evaluation",
    "recommended",
]
ALL_MET = {c.value: ("met", "Shown in the application.") for c in Criterion}


def in_days(days):
    return datetime.date.today() + datetime.timedelta(days=days)


def new_draft(people, project, *, nodes=(), target_level=2, actor=None, title=None):
    fields = complete_fields() | {"target_level": target_level}
    if title:
        fields["title"] = title
    return content.create_application(
        actor=actor or people.alice,
        project=project,
        fields=fields,
        answers={c.value: f"Our answer on {c.label}." for c in Criterion},
        nodes=list(nodes),
    )


def build_case(
    people,
    project,
    state,
    *,
    nodes=(),
    target_level=2,
    recommender=None,
    with_rfi=False,
    firm_admin=None,
    title=None,
):
    """A case of ``project``'s firm in ``state``, walked there through the services.

    ``recommender`` is who recommends (by default the case officer ``olivia``);
    the decision is then taken by an approver who did not recommend.
    ``with_rfi`` raises and answers one request for information during review.
    """
    admin = firm_admin or people.alice
    app = new_draft(
        people, project, nodes=nodes, target_level=target_level, actor=admin, title=title
    )
    if state == "draft":
        return app
    if state == "withdrawn":
        return lifecycle.withdraw(app, actor=admin, reason="We no longer need the sandbox.")
    app = lifecycle.submit(app, actor=admin)
    if state == "submitted":
        return app
    app = lifecycle.start_screening(app, actor=people.olivia)
    if state == "screening":
        return app
    app = lifecycle.accept_for_review(app, actor=people.olivia)
    if state == "under_review":
        return app
    if with_rfi or state == "awaiting_firm":
        app = lifecycle.request_information(
            app, actor=people.olivia, question="Send your risk assessment."
        )
        if state == "awaiting_firm":
            return app
        app = lifecycle.answer_information(app, actor=admin, answer="Attached to the case.")
    app = lifecycle.assess_eligibility(app, actor=people.olivia, assessments=ALL_MET)
    if target_level > 0:
        app = lifecycle.send_to_testing(app, actor=people.olivia)
        if state == "technical_testing":
            return app
    app = lifecycle.send_to_evaluation(app, actor=people.olivia)
    # The evaluation stage ends with an issued access evaluation for the recommendation.
    evaluation = issue_evaluation_for(app, people.olivia)
    if state == "evaluation":
        return app
    recommender = recommender or people.olivia
    outcome = DECISION_STATES.get(state, "admit_with_conditions")
    app = lifecycle.recommend(
        app,
        actor=recommender,
        recommendation=outcome,
        rationale="Meets the criteria.",
        evaluation=evaluation,
    )
    if state == "recommended":
        return app
    approver = people.vera if recommender.pk == people.victor.pk else people.victor
    conditions = (
        [("Appoint a compliance officer", in_days(60))]
        if outcome == "admit_with_conditions"
        else []
    )
    app = lifecycle.decide(
        app,
        actor=approver,
        outcome=outcome,
        rationale="Decided on the evidence.",
        conditions=conditions,
        testing_parameters={"max_customers": 500},
    )
    if state in DECISION_STATES:
        return app
    app = lifecycle.start_sandbox(app, actor=people.olivia)
    if state == "in_sandbox":
        return app
    lifecycle.submit_report(
        app,
        actor=admin,
        kind=FirmReportKind.FINAL,
        title="Final report",
        body="What we learned.",
    )
    app = lifecycle.start_exit_review(app, actor=admin)
    if state == "exit_review":
        return app
    app = lifecycle.close_exit(
        app, actor=approver, outcome="authorised", rationale="Ready for authorisation."
    )
    assert app.state == state, f"cannot build a case in {state}"
    return app


@pytest.fixture
def case_in(people, project_a, node_a):
    """Build one of Firm A's cases in a given state: ``case_in("evaluation")``."""

    def make(state, **options):
        options.setdefault("nodes", [node_a])
        return build_case(people, project_a, state, **options)

    return make
