"""Outcomes of suites and runs: one suite's error never hides another's, a run whose own
instrument misbehaved is invalid (not failed) with the reason, old results without
"outcome" read as they always did, and pages and API show all of it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from assessments import services, tasks
from assessments.engine import InvalidParameters, NodeUnreachable
from assessments.engine.results import Check, SuiteResult
from assessments.models import RunStatus, SuiteRun, TestRun
from assessments.monitoring import summary
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import advance
from tests.conftest import login as log_in


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(tasks, "enqueue", lambda *args, **kwargs: None)


def _result(suite, *checks):
    return SuiteResult(suite=suite, parameters={}, endpoints=["http://node"], checks=list(checks))


def healthy(suite):
    return _result(suite, Check("linkage", passed=True), Check("quiet", passed=None))


def instrument_lagged(suite):
    return _result(
        suite,
        Check("all_confirmed", passed=False, message="3 of 200 transfers never confirmed"),
        Check(
            "generator_valid",
            passed=False,
            instrument=True,
            message="load generator lag p99 84 ms is over its 50 ms budget",
        ),
    )


def execute(app, actor, monkeypatch, behaviour, suites=("block", "crypto")):
    """Start a run of ``suites`` and execute it here, each suite doing ``behaviour[suite]``
    (a SuiteResult factory, or an exception to raise)."""
    calls = []

    def run_suite(suite, target, parameters, progress):
        calls.append(suite)
        outcome = behaviour[suite]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome(suite)

    monkeypatch.setattr(tasks, "run_suite", run_suite)
    run = services.start_run(
        app, actor=actor, suites=list(suites), node_ids=[n.pk for n in app.nodes.all()]
    )
    returned = tasks.execute(run.pk, actor.pk, heartbeat=False)
    return TestRun.objects.get(pk=run.pk), returned, calls


@pytest.fixture
def testing_a(people, submitted_a):
    return advance(submitted_a, people, "technical_testing")


def suite_row(run, suite):
    return SuiteRun.objects.get(test_run=run, suite=suite)


def test_a_suite_that_raises_does_not_stop_the_next(people, testing_a, monkeypatch):
    error = NodeUnreachable("http://node", "connection refused")
    run, returned, calls = execute(
        testing_a, people.olivia, monkeypatch, {"block": error, "crypto": healthy}
    )
    assert calls == ["block", "crypto"]
    assert returned == "failed" and run.status == RunStatus.FAILED
    assert "block: node http://node unreachable" in run.error
    block, crypto = suite_row(run, "block"), suite_row(run, "crypto")
    assert (block.status, block.outcome, block.passed) == (RunStatus.FAILED, "failed", False)
    assert (crypto.status, crypto.outcome, crypto.passed) == (RunStatus.SUCCEEDED, "passed", True)
    assert crypto.result["checks"][0]["outcome"] == "passed"
    assert run.outcome == "failed" and run.invalid_reason == "" and run.passed is False


def test_an_engine_fault_in_one_suite_makes_the_run_invalid_not_failed(
    people, testing_a, monkeypatch
):
    run, returned, calls = execute(
        testing_a,
        people.olivia,
        monkeypatch,
        {"block": RuntimeError("bug"), "crypto": healthy},
    )
    assert calls == ["block", "crypto"] and returned == "failed"
    block = suite_row(run, "block")
    assert block.outcome == "invalid" and block.passed is None
    assert block.invalid_reason == "block: internal error (RuntimeError)"
    assert run.outcome == "invalid" and run.passed is None
    assert run.invalid_reason == "block: internal error (RuntimeError)"
    assert "outcome: invalid" in run.log


def test_bad_parameters_are_our_fault_not_the_firms(people, testing_a, monkeypatch):
    run, _, _ = execute(
        testing_a,
        people.olivia,
        monkeypatch,
        {"block": InvalidParameters("blocks must be positive"), "crypto": healthy},
    )
    assert suite_row(run, "block").outcome == "invalid"
    assert run.outcome == "invalid"


def test_a_failed_instrument_check_makes_the_suite_and_run_invalid_with_the_reason(
    people, testing_a, monkeypatch
):
    run, returned, _ = execute(
        testing_a,
        people.olivia,
        monkeypatch,
        {"block": healthy, "clearing": instrument_lagged},
        suites=("block", "clearing"),
    )
    # The job completed: every suite ran; what it found is another matter.
    assert returned == "succeeded" and run.status == RunStatus.SUCCEEDED
    clearing = suite_row(run, "clearing")
    assert clearing.outcome == "invalid" and clearing.passed is None
    assert "load generator lag p99 84 ms" in clearing.invalid_reason
    assert run.outcome == "invalid" and run.outcome != "failed" and run.passed is None
    assert run.invalid_reason.startswith("clearing: load generator lag p99 84 ms")
    event = AuditEvent.objects.get(action="test_run.finish", object_id=str(run.pk))
    assert event.after["outcome"] == "invalid"


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ((Check("a", passed=True), Check("b", outcome="inconclusive")), "inconclusive"),
        ((Check("a", passed=None), Check("b", passed=None)), "not_judged"),
        ((Check("a", passed=True), Check("b", passed=None)), "passed"),
        ((Check("a", passed=True), Check("b", passed=False)), "failed"),
    ],
)
def test_the_run_outcome_follows_its_suites(people, testing_a, monkeypatch, checks, expected):
    def crypto(suite):
        return _result(suite, *checks)

    run, _, _ = execute(
        testing_a, people.olivia, monkeypatch, {"crypto": crypto}, suites=("crypto",)
    )
    assert run.outcome == expected
    assert run.passed is {"failed": False, "passed": True}.get(expected)


OLD_PASSED = {
    "suite": "block",
    "passed": True,
    "metrics": {"head": 120},
    "checks": [
        {"name": "parent_hash_linkage", "passed": True, "evidence": {}, "description": "d"},
        {"name": "no_stall", "passed": None, "evidence": {}, "description": "d"},
    ],
    "charts": {},
}
OLD_FAILED = {
    "suite": "crypto",
    "passed": False,
    "metrics": {},
    "checks": [{"name": "low_s", "passed": False, "evidence": {"high_s": 2}}],
    "charts": {},
}


def old_run(app, actor):
    """A run stored before outcomes: no "outcome" anywhere, nor on the rows."""
    now = timezone.now()
    run = TestRun.objects.create(
        application=app,
        suites=["block", "crypto"],
        requested_by=actor,
        status=RunStatus.SUCCEEDED,
        progress=100,
        started_at=now - datetime.timedelta(minutes=1),
        finished_at=now,
    )
    for result in (OLD_PASSED, OLD_FAILED):
        SuiteRun.objects.create(
            test_run=run,
            suite=result["suite"],
            status=RunStatus.SUCCEEDED,
            passed=result["passed"],
            result=result,
        )
    return run


def test_old_results_without_outcome_read_from_passed(people, testing_a):
    run = old_run(testing_a, people.olivia)
    assert run.outcome == "" and run.current_outcome == "failed" and run.passed is False
    block = suite_row(run, "block")
    assert block.current_outcome == "passed" and block.current_invalid_reason == ""
    assert suite_row(run, "crypto").current_outcome == "failed"


def test_old_results_render_on_the_run_page(client, people, testing_a):
    run = old_run(testing_a, people.olivia)
    html = log_in(client, people.olivia).get(reverse("run-detail", args=[run.pk])).content
    html = html.decode()
    assert 'class="badge verdict verdict-failed">failed</span>' in html  # run and crypto
    assert 'class="badge verdict verdict-passed">passed</span>' in html  # block, linkage
    assert 'class="badge verdict verdict-not_judged">not judged</span>' in html  # no_stall
    assert "Invalid run" not in html


def test_the_run_page_shows_an_invalid_run_with_its_reason_and_check_messages(
    client, people, testing_a, monkeypatch
):
    run, _, _ = execute(
        testing_a,
        people.olivia,
        monkeypatch,
        {"block": healthy, "clearing": instrument_lagged},
        suites=("block", "clearing"),
    )
    html = log_in(client, people.olivia).get(reverse("run-detail", args=[run.pk])).content
    html = html.decode()
    assert 'id="run-outcome"><span class="badge verdict verdict-invalid">invalid</span>' in html
    assert 'id="run-invalid-reason"' in html
    assert "load generator lag p99 84 ms is over its 50 ms budget" in html
    assert "3 of 200 transfers never confirmed" in html  # a check's message
    assert "(our instrument)" in html
    assert 'style="' not in html.split('id="run-live"', 1)[1]  # no inline styles
    tab = log_in(client, people.alice).get(reverse("case-test-runs", args=[testing_a.pk]))
    assert "verdict-invalid" in tab.content.decode()


def test_the_api_exposes_outcomes_per_run_suite_and_check(people, testing_a, monkeypatch):
    run, _, _ = execute(
        testing_a,
        people.olivia,
        monkeypatch,
        {"block": healthy, "clearing": instrument_lagged},
        suites=("block", "clearing"),
    )
    old = old_run(testing_a, people.olivia)
    api = APIClient()
    api.force_authenticate(people.alice)
    body = api.get(f"/api/v1/test-runs/{run.pk}/").json()
    assert body["status"] == "succeeded" and body["outcome"] == "invalid"
    assert body["invalid_reason"].startswith("clearing: load generator lag")
    assert body["passed"] is None
    suites = {s["suite"]: s for s in body["suite_runs"]}
    assert suites["clearing"]["outcome"] == "invalid"
    assert "load generator lag" in suites["clearing"]["invalid_reason"]
    assert suites["block"]["outcome"] == "passed"
    checks = {c["name"]: c for c in suites["clearing"]["checks"]}
    assert checks["generator_valid"] == {
        "name": "generator_valid",
        "outcome": "failed",
        "passed": False,
        "message": "load generator lag p99 84 ms is over its 50 ms budget",
        "instrument": True,
    }
    assert [c["outcome"] for c in suites["block"]["checks"]] == ["passed", "not_judged"]
    listed = {r["id"]: r for r in api.get("/api/v1/test-runs/").json()["results"]}
    assert listed[run.pk]["outcome"] == "invalid"
    assert listed[old.pk]["outcome"] == "failed"  # an old run, from its suites' "passed"
    old_body = api.get(f"/api/v1/test-runs/{old.pk}/").json()
    old_checks = {s["suite"]: s["checks"] for s in old_body["suite_runs"]}
    assert [c["outcome"] for c in old_checks["block"]] == ["passed", "not_judged"]


def test_a_queued_run_has_no_outcome_yet_and_a_cancelled_one_judged_nothing(people, testing_a):
    run = services.start_run(
        testing_a, actor=people.olivia, suites=["block"], node_ids=[testing_a.nodes.get().pk]
    )
    assert run.current_outcome == "" and run.passed is None
    run = services.cancel_run(run, actor=people.olivia)
    assert run.outcome == "not_judged"


def test_a_run_given_up_after_its_worker_kept_dying_is_invalid(people, testing_a, settings):
    run = services.start_run(
        testing_a, actor=people.olivia, suites=["block"], node_ids=[testing_a.nodes.get().pk]
    )
    stale = timezone.now() - datetime.timedelta(hours=1)
    TestRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=stale, attempts=settings.ENGINE_MAX_ATTEMPTS
    )
    assert services.requeue_stale(run.pk) == "failed"
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.outcome == "invalid"
    assert "the worker stopped answering" in run.invalid_reason


def test_the_monitoring_summary_records_outcomes(people, submitted_a):
    app = advance(submitted_a, people, "in_sandbox")
    run = summary.record_summary(app, actor=people.olivia)
    suite = run.suite_runs.get()
    # No probe in the period: nothing judged, never "passed".
    assert run.outcome == "not_judged" and suite.outcome == "not_judged"
    assert suite.result["outcome"] == "not_judged" and suite.passed is None
    assert all(c["outcome"] == "not_judged" for c in suite.result["checks"])
    assert all("no probe" in c["message"] for c in suite.result["checks"])
