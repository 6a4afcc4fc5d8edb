"""Evaluations read the four outcomes: an inconclusive reading is an inconclusive indicator
(neither passed nor failed), a mandatory one blocks admission with its reason (service and
page), and an invalid run is never evidence of a failure."""

import copy
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from applications.models import Application, Zone, ZoneRegistration
from applications.services import firms, lifecycle
from assessments import outcomes
from assessments.evaluations import scoring, services

from . import samples

MESSAGE = "conservation inconclusive: balance of 0x1234 unreadable at height 1234 on node-1"
BLOCKER = f"Indicator Value is conserved is inconclusive: {MESSAGE}; re-test before admission"
LAG = "load generator lag p99 84 ms is over its 50 ms budget"


def judge(result, name, outcome, message="", instrument=False):
    """``result`` with check ``name`` given an outcome (added if missing), re-settled."""
    result = copy.deepcopy(result)
    found = [c for c in result["checks"] if c["name"] == name]
    check = found[0] if found else {"name": name, "evidence": {}, "description": ""}
    if not found:
        result["checks"].append(check)
    check.update(
        outcome=outcome,
        passed=outcomes.passed_of(outcome),
        message=message,
        instrument=instrument,
    )
    return settle(result)


def settle(result):
    """The suite's outcome as the engine computes it."""
    for check in result["checks"]:
        check.setdefault("outcome", outcomes.from_passed(check["passed"]))
    lagging = [c for c in result["checks"] if c.get("instrument") and c["outcome"] == "failed"]
    if lagging:
        result["outcome"] = "invalid"
        result["invalid_reason"] = "; ".join(c["message"] for c in lagging)
    else:
        result["outcome"] = outcomes.combine(c["outcome"] for c in result["checks"])
        result["invalid_reason"] = ""
    result["passed"] = outcomes.passed_of(result["outcome"])
    return result


def indicators(evaluation):
    return {
        ind["path"]: ind
        for layer in evaluation.results["layers"]
        for dim in layer["dimensions"]
        for ind in dim["indicators"]
    }


@pytest.fixture
def registered_a(people):
    zone = Zone.objects.create(name="Harbour free-trade zone", kind="free_trade")
    ZoneRegistration.objects.create(
        firm=people.firm_a,
        zone=zone,
        registered_address="1 Quay Street",
        registration_number="FTZ-1",
        registered_on=datetime.date(2026, 1, 5),
    )
    firms.save_personnel(
        people.firm_a, actor=people.alice, fields={"name": "Ada", "role": "CTO", "on_site": True}
    )
    return people.firm_a


@pytest.fixture
def protocol_run(people, testing_a):
    return samples.finished_run(
        testing_a,
        people.olivia,
        [samples.block(), samples.crypto(), samples.consensus()],
        finished_at=timezone.now() - datetime.timedelta(hours=2),
    )


# -- Scoring ------------------------------------------------------------------------


TREE = {
    "layers": [
        {
            "code": "l",
            "name": "Layer",
            "dimensions": [
                {
                    "code": "d",
                    "name": "Dimension",
                    "indicators": [
                        {
                            "code": "m",
                            "name": "Mandatory",
                            "source_key": "s.checks.m",
                            "mandatory": True,
                        },
                        {"code": "o", "name": "Optional", "source_key": "s.checks.o"},
                        {"code": "p", "name": "Plain", "source_key": "s.checks.p"},
                    ],
                }
            ],
        }
    ]
}


def test_an_inconclusive_mandatory_indicator_asks_for_a_retest_with_its_reason():
    results = scoring.evaluate(
        TREE,
        {"s.checks.m": None, "s.checks.o": True, "s.checks.p": True},
        category=None,
        level=None,
        inconclusive={"s.checks.m": "p99 1.31-1.60 s straddles the 1.5 s bound"},
    )
    mandatory = results["layers"][0]["dimensions"][0]["indicators"][0]
    assert mandatory["status"] == "inconclusive" and mandatory["score"] is None
    assert results["counts"]["inconclusive"] == 1 and results["counts"]["failed"] == 0
    assert results["overall"] == 100.0  # left out of the mean, never a zero
    assert results["recommendation"] == "retest"
    assert results["reasons"] == [
        "Indicator Mandatory is inconclusive: p99 1.31-1.60 s straddles the 1.5 s bound; "
        "re-test before admission"
    ]
    assert results["mandatory_inconclusive"] == ["l.d.m"]
    assert results["blockers"] == results["reasons"]


def test_an_inconclusive_optional_indicator_does_not_block_nor_count_against():
    results = scoring.evaluate(
        TREE,
        {"s.checks.m": True, "s.checks.o": False, "s.checks.p": True},
        category=None,
        level=None,
        inconclusive={"s.checks.o": "too few samples"},
    )
    assert results["recommendation"] == "admit" and results["overall"] == 100.0
    assert results["blockers"] == [] and results["counts"]["inconclusive"] == 1


def test_a_failed_mandatory_indicator_still_rejects_beside_an_inconclusive_one():
    results = scoring.evaluate(
        TREE,
        {"s.checks.m": None, "s.checks.o": True, "s.checks.p": False},
        category=None,
        level=None,
        inconclusive={"s.checks.m": "too few samples"},
    )
    assert results["recommendation"] == "retest"
    tree = copy.deepcopy(TREE)
    tree["layers"][0]["dimensions"][0]["indicators"][2]["mandatory"] = True
    results = scoring.evaluate(
        tree,
        {"s.checks.m": None, "s.checks.o": True, "s.checks.p": False},
        category=None,
        level=None,
        inconclusive={"s.checks.m": "too few samples"},
    )
    assert results["recommendation"] == "reject"


# -- Evaluations from stored results ------------------------------------------------------


def inconclusive_payment_run(app, actor):
    payment = judge(samples.payment(), "value_conservation", "inconclusive", MESSAGE)
    return samples.finished_run(app, actor, [payment])


def test_an_inconclusive_check_makes_its_indicator_inconclusive_and_blocks_admission(
    people, testing_a, protocol_run, registered_a
):
    run = inconclusive_payment_run(testing_a, people.olivia)
    evaluation = services.create_evaluation(
        testing_a, actor=people.olivia, test_run_ids=[protocol_run.pk, run.pk]
    )
    scored = indicators(evaluation)
    conserved = scored["application.payment_integrity.value_conservation"]
    assert conserved["status"] == "inconclusive" and conserved["score"] is None
    assert conserved["note"] == MESSAGE
    # The rest of the payment suite is read as before (its checks passed).
    assert scored["application.payment_integrity.double_spend"]["status"] == "passed"
    # A metric of a suite that is inconclusive cannot decide either.
    latency = scored["application.payment_latency.receipt_latency_p99"]
    assert latency["status"] == "inconclusive" and MESSAGE in latency["note"]
    assert evaluation.recommendation == "retest"
    assert evaluation.admission_blockers == [BLOCKER]
    assert evaluation.inputs["inconclusive"]["payment.checks.value_conservation"] == MESSAGE


def test_a_not_judged_check_is_not_assessed(people, testing_a, protocol_run):
    payment = judge(samples.payment(), "double_spend", "not_judged", "no conflicting pair sent")
    run = samples.finished_run(testing_a, people.olivia, [payment])
    evaluation = services.create_evaluation(
        testing_a, actor=people.olivia, test_run_ids=[protocol_run.pk, run.pk]
    )
    double_spend = indicators(evaluation)["application.payment_integrity.double_spend"]
    assert double_spend["status"] == "not_assessed"


@pytest.fixture
def blocked_a(people, testing_a, protocol_run, registered_a):
    """Firm A's case at evaluation, its issued evaluation blocked by an inconclusive check."""
    run = inconclusive_payment_run(testing_a, people.olivia)
    app = lifecycle.send_to_evaluation(testing_a, actor=people.olivia)
    evaluation = services.create_evaluation(
        app, actor=people.olivia, test_run_ids=[protocol_run.pk, run.pk]
    )
    services.issue_evaluation(evaluation, actor=people.olivia)
    return Application.objects.get(pk=app.pk)


@pytest.mark.parametrize("recommendation", ["admit", "admit_with_conditions"])
def test_no_admission_is_recommended_on_an_inconclusive_mandatory_indicator(
    people, blocked_a, recommendation
):
    with pytest.raises(ValidationError) as refused:
        lifecycle.recommend(
            blocked_a, actor=people.olivia, recommendation=recommendation, rationale="Sound."
        )
    assert refused.value.message_dict == {"recommendation": [BLOCKER + "."]}
    assert Application.objects.get(pk=blocked_a.pk).state == "evaluation"


def test_no_admission_is_decided_on_it_but_a_rejection_is(people, blocked_a):
    app = lifecycle.recommend(
        blocked_a, actor=people.olivia, recommendation="reject", rationale="Re-test first."
    )
    with pytest.raises(ValidationError) as refused:
        lifecycle.decide(app, actor=people.victor, outcome="admit", rationale="Fine.")
    assert refused.value.message_dict == {"outcome": [BLOCKER + "."]}
    assert Application.objects.get(pk=app.pk).state == "recommended"
    app = lifecycle.decide(app, actor=people.victor, outcome="reject", rationale="Not yet.")
    assert app.state == "rejected"


def test_the_recommend_page_shows_the_reason(people, blocked_a, browser):
    client = browser(people.olivia)
    url = reverse("case-action", args=[blocked_a.pk, "recommend"])
    response = client.post(url, {"recommendation": "admit", "rationale": "Sound."})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Indicator Value is conserved is inconclusive:" in html
    assert "balance of 0x1234 unreadable at height 1234 on node-1; re-test before admission" in html
    assert Application.objects.get(pk=blocked_a.pk).state == "evaluation"


def test_the_evaluation_page_shows_the_blocker_and_the_inconclusive_indicator(
    people, blocked_a, browser
):
    evaluation = blocked_a.evaluations.get()
    html = browser(people.olivia).get(reverse("evaluation-detail", args=[evaluation.pk]))
    html = html.content.decode()
    assert 'id="admission-blockers"' in html and BLOCKER in html
    assert "Re-test before admission" in html
    assert 'class="badge verdict verdict-inconclusive">Inconclusive</span>' in html


# -- Invalid runs -------------------------------------------------------------------------


def invalid_payment():
    """A payment suite whose own instrument lagged, with a firm check failed in it."""
    payment = judge(samples.payment(), "value_conservation", "failed", "lost 5 wei")
    return judge(payment, "submit_schedule", "failed", LAG, instrument=True)


def test_an_invalid_run_is_no_evidence_of_failure(people, testing_a, protocol_run, registered_a):
    run = samples.finished_run(testing_a, people.olivia, [invalid_payment()])
    evaluation = services.create_evaluation(
        testing_a, actor=people.olivia, test_run_ids=[protocol_run.pk, run.pk]
    )
    scored = indicators(evaluation)
    conserved = scored["application.payment_integrity.value_conservation"]
    assert conserved["status"] == "inconclusive"
    assert f"test run {run.pk} is invalid (payment: {LAG})" in conserved["note"]
    # Its passed checks are no evidence either.
    assert scored["application.payment_integrity.double_spend"]["status"] == "inconclusive"
    assert (
        "application.payment_integrity.value_conservation"
        not in (evaluation.results["mandatory_failed"])
    )
    assert evaluation.recommendation == "retest"  # not "reject"
    summaries = services.canonical_payload(evaluation)["test_runs"]
    invalid = [s for s in summaries if s["id"] == run.pk][0]
    assert invalid["outcome"] == "invalid" and invalid["passed"] is None
    assert invalid["invalid_reason"] == f"payment: {LAG}"


def test_an_invalid_reading_never_displaces_a_valid_one(
    people, testing_a, protocol_run, registered_a
):
    earlier = samples.finished_run(
        testing_a,
        people.olivia,
        [samples.payment()],
        finished_at=timezone.now() - datetime.timedelta(hours=1),
    )
    later = samples.finished_run(testing_a, people.olivia, [invalid_payment()])
    evaluation = services.create_evaluation(
        testing_a,
        actor=people.olivia,
        test_run_ids=[protocol_run.pk, earlier.pk, later.pk],
    )
    conserved = indicators(evaluation)["application.payment_integrity.value_conservation"]
    assert conserved["status"] == "passed"
    assert evaluation.inputs["sources"]["payment.checks.value_conservation"]["test_run"] == (
        earlier.pk
    )
    assert evaluation.recommendation == "admit", evaluation.results["reasons"]


def test_old_results_without_outcomes_score_as_before(
    people, testing_a, protocol_run, registered_a
):
    failed = samples.finished_run(testing_a, people.olivia, [samples.payment(ok=False)])
    evaluation = services.create_evaluation(
        testing_a, actor=people.olivia, test_run_ids=[protocol_run.pk, failed.pk]
    )
    scored = indicators(evaluation)
    assert scored["application.payment_integrity.double_spend"]["status"] == "failed"
    assert evaluation.results["counts"]["inconclusive"] == 0
    assert evaluation.recommendation == "reject"
    summary = services.canonical_payload(evaluation)["test_runs"]
    assert {s["id"]: s["outcome"] for s in summary} == {
        protocol_run.pk: "passed",
        failed.pk: "failed",
    }
