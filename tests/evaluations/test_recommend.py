"""The recommendation cites an issued evaluation; above L0 it cannot do without one."""

import pytest
from django.core.exceptions import ValidationError

from applications.actions import ActionInvalid, get_action, take_action
from applications.models import Application
from applications.services import lifecycle
from assessments.evaluations import services
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import advance


@pytest.fixture
def evaluating_a(people, testing_a):
    """Firm A's L2 case at the evaluation stage, with no evaluation yet."""
    return lifecycle.send_to_evaluation(testing_a, actor=people.olivia)


def recommend(app, people, **extra):
    return lifecycle.recommend(
        app, actor=people.olivia, recommendation="admit", rationale="Evidence sound.", **extra
    )


def test_it_refuses_to_recommend_an_l2_case_without_an_issued_evaluation(people, evaluating_a):
    with pytest.raises(ValidationError, match="issue an access evaluation"):
        recommend(evaluating_a, people)
    services.create_evaluation(evaluating_a, actor=people.olivia)  # a draft is not enough
    with pytest.raises(ValidationError, match="issue an access evaluation"):
        recommend(evaluating_a, people)
    assert Application.objects.get(pk=evaluating_a.pk).state == "evaluation"


def test_it_refuses_to_cite_a_draft(people, evaluating_a):
    draft = services.create_evaluation(evaluating_a, actor=people.olivia)
    with pytest.raises(ValidationError, match="issued evaluation, not a draft"):
        recommend(evaluating_a, people, evaluation=draft)
    assert Application.objects.get(pk=evaluating_a.pk).state == "evaluation"


def test_it_refuses_to_cite_another_cases_evaluation(people, evaluating_a, draft_a):
    from applications.services import content
    from tests.conftest import complete_fields

    other = content.create_application(
        actor=people.alice,
        project=evaluating_a.project,
        fields=complete_fields(),
        answers=dict.fromkeys(_criteria(), "Answer."),
    )
    other = advance(lifecycle.submit(other, actor=people.alice), people, "evaluation")
    foreign = other.evaluations.get(status="issued")
    with pytest.raises(ValidationError, match="not of this case"):
        recommend(evaluating_a, people, evaluation=foreign)
    assert Application.objects.get(pk=evaluating_a.pk).recommendation_evaluation is None


def test_it_cites_the_issued_evaluation_it_is_given(people, evaluating_a):
    first = services.issue_evaluation_for(evaluating_a, people.olivia)
    services.issue_evaluation_for(evaluating_a, people.olivia)
    app = recommend(evaluating_a, people, evaluation=first)
    assert app.state == "recommended"
    assert Application.objects.get(pk=app.pk).recommendation_evaluation == first
    event = AuditEvent.objects.get(application_id=app.pk, action="application.recommend")
    assert event.after["evaluation"] == first.pk
    assert event.after["evaluation_sha256"] == first.sha256


def test_without_a_choice_it_cites_the_latest_issued_evaluation(people, evaluating_a):
    services.issue_evaluation_for(evaluating_a, people.olivia)
    latest = services.issue_evaluation_for(evaluating_a, people.olivia)
    services.create_evaluation(evaluating_a, actor=people.olivia)  # a newer draft is skipped
    app = recommend(evaluating_a, people)
    assert app.recommendation_evaluation == latest


def test_an_l0_case_can_be_recommended_without_an_evaluation(people, submitted_a):
    Application.objects.filter(pk=submitted_a.pk).update(target_level=0)
    app = advance(Application.objects.get(pk=submitted_a.pk), people, "under_review")
    app = lifecycle.assess_eligibility(
        app, actor=people.olivia, assessments=dict.fromkeys(_criteria(), ("met", "Yes."))
    )
    app = lifecycle.send_to_evaluation(app, actor=people.olivia)
    app = recommend(app, people)
    assert app.state == "recommended" and app.recommendation_evaluation is None


def _criteria():
    from applications.models import Criterion

    return [c.value for c in Criterion]


def test_the_recommend_form_offers_only_the_cases_issued_evaluations(people, evaluating_a):
    draft = services.create_evaluation(evaluating_a, actor=people.olivia)
    issued = services.issue_evaluation_for(evaluating_a, people.olivia)
    action = get_action("recommend")
    form = action.form(evaluating_a)
    assert list(form.fields["evaluation"].queryset) == [issued]
    assert form.fields["evaluation"].initial == issued.pk
    with pytest.raises(ActionInvalid) as refused:
        take_action(
            action,
            evaluating_a,
            people.olivia,
            {"recommendation": "admit", "rationale": "Good.", "evaluation": draft.pk},
        )
    assert "evaluation" in refused.value.errors
    app = take_action(
        action,
        evaluating_a,
        people.olivia,
        {"recommendation": "admit", "rationale": "Good.", "evaluation": issued.pk},
    )
    assert app.recommendation_evaluation == issued


def test_the_api_recommend_action_requires_an_evaluation(people, evaluating_a, api):
    url = f"/api/v1/applications/{evaluating_a.pk}/actions/recommend/"
    refused = api("olivia").post(
        url, {"recommendation": "admit", "rationale": "Good."}, format="json"
    )
    assert refused.status_code == 400
    assert "evaluation" in refused.json()["errors"]
    issued = services.issue_evaluation_for(evaluating_a, people.olivia)
    done = api("olivia").post(
        url,
        {"recommendation": "admit", "rationale": "Good.", "evaluation": issued.pk},
        format="json",
    )
    assert done.status_code == 200, done.content
    assert Application.objects.get(pk=evaluating_a.pk).recommendation_evaluation == issued
