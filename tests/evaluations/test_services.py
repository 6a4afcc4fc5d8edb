"""Creating and issuing evaluations: inputs, versions, immutability, the audit trail."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from applications.models import Zone, ZoneRegistration
from applications.services import firms
from applications.services.common import IllegalTransition
from assessments.evaluations import canonical, services
from assessments.evaluations.models import Evaluation, Frozen
from assessments.models import RunStatus
from sandbox_portal.audit.models import AuditEvent
from sandbox_portal.audit.services import verify_chain

from . import samples


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


def test_it_scores_the_case_from_the_chosen_runs_and_the_case(people, testing_a, good_runs):
    evaluation = services.create_evaluation(
        testing_a, actor=people.olivia, test_run_ids=[r.pk for r in good_runs]
    )
    scored = indicators(evaluation)
    assert scored["protocol.crypto.signatures_recover"]["status"] == "passed"
    assert scored["protocol.consensus.height_lag"]["value"] == 1
    assert scored["protocol.consensus.height_lag"]["score"] == 90.0
    assert scored["application.payment_latency.receipt_latency_p99"]["value"] == 0.8
    assert scored["institutional.eligibility.in_scope"]["status"] == "passed"
    assert evaluation.inputs["sources"]["payment.metrics.receipt_latency_s.p99"] == {
        "test_run": good_runs[1].pk,
        "suite_run": good_runs[1].suite_runs.get(suite="payment").pk,
    }
    assert set(evaluation.test_runs.values_list("pk", flat=True)) == {r.pk for r in good_runs}
    assert evaluation.version == 1 and evaluation.status == "draft"
    assert evaluation.overall_score is not None


def test_a_case_without_a_zone_registration_is_rejected_whatever_its_score(
    people, testing_a, good_runs
):
    evaluation = services.create_evaluation(
        testing_a, actor=people.olivia, test_run_ids=[r.pk for r in good_runs]
    )
    assert indicators(evaluation)["physical.presence.zone_registration"]["status"] == "failed"
    assert evaluation.overall_score > 80
    assert evaluation.recommendation == "reject"


def test_a_registered_case_with_good_evidence_is_admitted(
    people, testing_a, good_runs, registered_a
):
    evaluation = services.create_evaluation(
        testing_a, actor=people.olivia, test_run_ids=[r.pk for r in good_runs]
    )
    assert evaluation.results["mandatory_failed"] == []
    assert evaluation.results["mandatory_not_assessed"] == []
    assert evaluation.recommendation == "admit", evaluation.results["reasons"]


def test_missing_evidence_is_not_assessed_never_zero(people, testing_a, registered_a):
    evaluation = services.create_evaluation(testing_a, actor=people.olivia, test_run_ids=[])
    scored = indicators(evaluation)
    safety = scored["protocol.consensus.safety"]
    assert safety["status"] == "not_assessed" and safety["score"] is None
    protocol = evaluation.results["layers"][0]
    assert protocol["code"] == "protocol" and protocol["score"] is None
    assert "protocol.consensus.safety" in evaluation.results["mandatory_not_assessed"]
    assert evaluation.recommendation == "admit_with_conditions"
    # The institutional and physical layers were assessed and carry the score alone.
    assert evaluation.overall_score is not None and evaluation.overall_score > 0


def test_it_applies_indicators_by_category_and_level(people, testing_a, good_runs):
    evaluation = services.create_evaluation(
        testing_a, actor=people.olivia, test_run_ids=[r.pk for r in good_runs]
    )
    scored = indicators(evaluation)
    # A payment case at L2: clearing throughput and L3 monitoring do not apply.
    assert scored["application.clearing_throughput.sustained_tps"]["status"] == "not_applicable"
    assert scored["operations.monitoring.uptime"]["status"] == "not_applicable"
    assert scored["application.payment_integrity.double_spend"]["status"] == "passed"
    assert not any(n["path"].startswith("operations.") for n in evaluation.results["not_assessed"])


def test_monitoring_metrics_not_yet_produced_come_out_not_assessed(people, testing_a):
    testing_a.target_level = 3
    testing_a.save(update_fields=["target_level"])
    run = samples.finished_run(
        testing_a,
        people.olivia,
        [
            {
                "suite": "monitoring",
                "passed": True,
                "metrics": {"samples": [], "alerts": []},
                "checks": [
                    {"name": "node_down", "passed": True, "evidence": {}, "description": ""},
                    {"name": "fork", "passed": True, "evidence": {}, "description": ""},
                ],
            }
        ],
    )
    evaluation = services.create_evaluation(testing_a, actor=people.olivia, test_run_ids=[run.pk])
    scored = indicators(evaluation)
    assert scored["operations.monitoring.fork"]["status"] == "passed"
    assert scored["operations.monitoring.uptime"]["status"] == "not_assessed"
    assert scored["operations.monitoring.uptime"]["score"] is None


def test_the_most_recently_finished_run_provides_a_value(people, testing_a):
    now = timezone.now()
    late = samples.finished_run(
        testing_a, people.olivia, [samples.payment(p99=8.0)], finished_at=now
    )
    early = samples.finished_run(
        testing_a,
        people.olivia,
        [samples.payment(p99=2.0)],
        finished_at=now - datetime.timedelta(hours=1),
    )
    evaluation = services.create_evaluation(
        testing_a, actor=people.olivia, test_run_ids=[late.pk, early.pk]
    )
    assert evaluation.inputs["values"]["payment.metrics.receipt_latency_s.p99"] == 8.0


def test_it_refuses_runs_of_another_case_or_unfinished(people, testing_a, good_runs, draft_a):
    running = samples.finished_run(testing_a, people.olivia, [samples.block()])
    running.status = RunStatus.RUNNING
    running.save(update_fields=["status"])
    with pytest.raises(ValidationError) as refused:
        services.create_evaluation(
            testing_a, actor=people.olivia, test_run_ids=[good_runs[0].pk, running.pk, 999999]
        )
    assert f"{running.pk}, 999999" in str(refused.value)
    assert not Evaluation.objects.exists()


@pytest.mark.parametrize("who", ["alice", "audrey", "staff"])
def test_it_refuses_anyone_but_a_regulator(people, testing_a, who):
    with pytest.raises(PermissionDenied):
        services.create_evaluation(testing_a, actor=getattr(people, who))
    evaluation = services.create_evaluation(testing_a, actor=people.olivia)
    with pytest.raises(PermissionDenied):
        services.issue_evaluation(evaluation, actor=getattr(people, who))
    assert Evaluation.objects.get().status == "draft"


def test_it_refuses_to_evaluate_a_draft(people, draft_a):
    with pytest.raises(IllegalTransition):
        services.create_evaluation(draft_a, actor=people.olivia)
    assert not Evaluation.objects.exists()


def test_issuing_writes_the_canonical_json_and_its_hash(people, testing_a, good_runs):
    draft = services.create_evaluation(
        testing_a, actor=people.olivia, test_run_ids=[r.pk for r in good_runs]
    )
    assert draft.canonical_json == "" and draft.sha256 == ""
    issued = services.issue_evaluation(draft, actor=people.victor)
    assert issued.status == "issued" and issued.issued_by == people.victor
    payload = json.loads(issued.canonical_json)
    assert canonical.dumps(payload) == issued.canonical_json
    assert canonical.sha256(issued.canonical_json) == issued.sha256
    assert payload["evaluation"]["version"] == 1
    assert payload["case"]["reference"] == testing_a.reference
    assert payload["case"]["category"] == "payment" and payload["case"]["target_level"] == 2
    assert payload["index_model"] == {"name": "Access evaluation index", "version": 1}
    assert [r["id"] for r in payload["test_runs"]] == sorted(r.pk for r in good_runs)
    assert payload["test_runs"][0]["passed"] is True
    assert payload["recommendation"] == issued.recommendation
    assert payload["evaluation"]["issued_by"]["username"] == "victor"
    assert payload["evaluation"]["issued_at"].endswith("Z")
    first = payload["results"]["layers"][0]["dimensions"][0]["indicators"][0]
    assert {"weight", "rule", "value", "score", "status"} <= set(first)
    # The same evaluation gives the same bytes, so the same hash, every time.
    again = Evaluation.objects.get(pk=issued.pk)
    assert (
        canonical.dumps(services.canonical_payload(again)).encode()
        == issued.canonical_json.encode()
    )


def test_it_refuses_to_issue_twice(people, testing_a):
    issued = services.issue_evaluation(
        services.create_evaluation(testing_a, actor=people.olivia), actor=people.olivia
    )
    with pytest.raises(IllegalTransition):
        services.issue_evaluation(issued, actor=people.olivia)
    assert Evaluation.objects.get().sha256 == issued.sha256


def test_an_issued_evaluation_cannot_change(people, testing_a, good_runs):
    issued = services.issue_evaluation(
        services.create_evaluation(testing_a, actor=people.olivia), actor=people.olivia
    )
    original = issued.recommendation
    issued.recommendation = "admit" if original != "admit" else "reject"
    with pytest.raises(Frozen):
        issued.save()
    with pytest.raises(Frozen), transaction.atomic():
        issued.test_runs.add(good_runs[0])
    with pytest.raises(Frozen), transaction.atomic():
        good_runs[1].evaluations.add(issued)
    with pytest.raises(Frozen):
        issued.delete()
    # Nor behind the model's back: the database refuses too.
    with pytest.raises(DatabaseError), transaction.atomic():
        Evaluation.objects.filter(pk=issued.pk).update(recommendation=issued.recommendation)
    with pytest.raises(Frozen), transaction.atomic():
        Evaluation.objects.filter(pk=issued.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Evaluation.test_runs.through.objects.create(evaluation=issued, testrun=good_runs[0])
    stored = Evaluation.objects.get(pk=issued.pk)
    assert stored.recommendation == original
    assert stored.test_runs.count() == 0


def test_a_draft_evaluation_can_still_be_corrected(people, testing_a, good_runs):
    draft = services.create_evaluation(testing_a, actor=people.olivia)
    draft.test_runs.add(good_runs[0])
    draft.save()
    assert draft.test_runs.count() == 1


def test_re_evaluating_makes_a_new_version(people, testing_a, good_runs):
    first = services.issue_evaluation(
        services.create_evaluation(testing_a, actor=people.olivia), actor=people.olivia
    )
    second = services.create_evaluation(
        testing_a, actor=people.oscar, test_run_ids=[r.pk for r in good_runs]
    )
    assert (first.version, second.version) == (1, 2)
    assert second.status == "draft"
    assert Evaluation.objects.get(pk=first.pk).sha256 == first.sha256
    assert list(testing_a.evaluations.order_by("version").values_list("version", flat=True)) == [
        1,
        2,
    ]


def test_every_step_is_in_the_audit_trail(people, testing_a):
    evaluation = services.create_evaluation(testing_a, actor=people.olivia)
    services.issue_evaluation(evaluation, actor=people.olivia)
    events = AuditEvent.objects.filter(object_type="evaluations.evaluation").order_by("seq")
    assert [e.action for e in events] == ["evaluation.create", "evaluation.issue"]
    assert all(e.application_id == testing_a.pk for e in events)
    assert events[1].after["sha256"] == Evaluation.objects.get().sha256
    assert verify_chain().intact
