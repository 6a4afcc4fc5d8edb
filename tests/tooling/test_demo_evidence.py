"""The demo's technical evidence: real test runs against the reference node, cited by the
admitted case's evaluation and shown in its signed report."""

import io
from io import StringIO

import pypdf
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from applications.models import Application, Node, State
from applications.services import IllegalTransition, firms
from assessments import services
from assessments.evaluations.models import EvaluationStatus
from assessments.models import RunStatus, TestRun
from assessments.reports import services as report_services
from assessments.reports.models import ReportStatus
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import advance

# Judged against time budgets (latency, generator lag): run alone, not beside other tests.
pytestmark = pytest.mark.serial

ADMITTED = "Real-time merchant payments"
IN_TESTING = "Intraday netting for merchant acquirers"
PAYMENT_PLAN = ["block", "crypto", "consensus", "payment", "monitoring"]
# Judged only across two or more nodes, or over long-running monitoring: the demo has
# one reference node and one monitoring probe, so these stay "not assessed".
NEEDS_MORE_THAN_ONE_NODE = {"protocol.consensus.safety", "protocol.consensus.same_chain_id"}
NEEDS_LONG_MONITORING = {"operations.monitoring.uptime", "operations.monitoring.incident_response"}
TECHNICAL_LAYERS = ("protocol.", "application.", "operations.")


def load():
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def not_assessed(evaluation):
    return {entry["path"] for entry in evaluation.results["not_assessed"]}


def evidence_text(report):
    with report.pdf.open("rb") as handle:
        data = handle.read()
    pages = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]
    start = next(i for i, text in enumerate(pages) if "Technical evidence" in text)
    end = next(i for i, text in enumerate(pages) if "Decision and conditions" in text)
    return data, "\n".join(pages[start:end])


def test_with_the_reference_node_the_admitted_case_is_evaluated_on_real_runs(db, reference_node):
    output = load()

    case = Application.objects.get(title=ADMITTED)
    assert case.state == State.IN_SANDBOX
    # Runs on nodes; the other two record the checks of the demo's uploaded traces.
    runs = [r for r in case.test_runs.all() if r.targets]
    assert len(runs) == 1, output
    assert sorted(r.suites[0] for r in case.test_runs.all() if not r.targets) == [
        "consensus_trace",
        "ledger",
    ]
    run = runs[0]
    assert run.status == RunStatus.SUCCEEDED, run.log
    assert run.suites == PAYMENT_PLAN
    assert run.passed is True, run.log
    assert run.targets == [
        {"id": case.nodes.get().pk, "label": "reference-node", "endpoint": reference_node.url}
    ]
    # The bounds are derived from the node's block interval, not fixed by the demo.
    assert run.parameters["payment"].get("max_p99_latency_s") is None
    assert run.parameters["payment"]["transfers"] == 400
    suites = {s.suite: s for s in run.suite_runs.all()}
    assert all(s.passed for s in suites.values())
    payment = suites["payment"].result
    assert payment["metrics"]["transfers"]["succeeded"] == 400
    assert payment["metrics"]["receipt_latency_s"]["p99"] <= 2.5
    assert suites["crypto"].result["metrics"]["signatures_judged"] > 0
    assert f"test run {run.pk} of {case.reference}" in output
    assert "passed" in output

    # The evaluation cites the run, and every technical indicator the run can feed is scored.
    evaluation = case.evaluations.get()
    assert evaluation.status == EvaluationStatus.ISSUED
    assert list(evaluation.test_runs.all()) == [run]
    missing = {p for p in not_assessed(evaluation) if p.startswith(TECHNICAL_LAYERS)}
    assert missing == NEEDS_MORE_THAN_ONE_NODE | NEEDS_LONG_MONITORING
    scored = evaluation.inputs["values"]
    assert scored["payment.metrics.receipt_latency_s.p99"] <= 2.5
    assert scored["payment.checks.double_spend"] is True
    assert scored["crypto.checks.signatures_recover"] is True
    level = AuditEvent.objects.get(application_id=case.pk, action="application.set_achieved_level")
    assert f"Test run {run.pk} on the reference node: every suite passed" in level.reason

    # The signed report verifies, and its evidence chapter shows the suites and charts.
    report = evaluation.reports.get()
    assert report.status == ReportStatus.READY
    data, evidence = evidence_text(report)
    verdict = report_services.verify_report(data)
    assert verdict.authentic, verdict.reason
    assert verdict.evaluation["id"] == evaluation.pk
    assert f"Test run {run.pk}" in evidence
    assert "Payment latency, double spend, rollback (L2)" in evidence
    assert "receipt_latency_s.p99" in evidence
    assert "Submit-to-receipt latency percentiles" in evidence  # an SVG chart's title
    assert "Block intervals" in evidence

    # The case in technical testing ran its L3 clearing plan; nothing else ran.
    testing = Application.objects.get(title=IN_TESTING)
    assert testing.state == State.TECHNICAL_TESTING
    assert [r.suites for r in testing.test_runs.all()] == [
        ["block", "crypto", "consensus", "clearing", "monitoring"]
    ]
    assert TestRun.objects.count() == 4
    assert not TestRun.objects.exclude(application__in=[case, testing]).exists()

    # A second load adds nothing, and runs nothing.
    events = AuditEvent.objects.count()
    assert "already loaded" in load()
    assert TestRun.objects.count() == 4
    assert AuditEvent.objects.count() == events


def test_without_a_node_it_loads_the_demo_and_says_the_evidence_was_skipped(db, no_reference_node):
    output = load()

    assert "Demo loaded" in output
    skipped = [line for line in output.splitlines() if "evidence skipped" in line]
    assert len(skipped) == 1
    assert f"127.0.0.1:{no_reference_node}" in skipped[0]
    # No run on a node; only the checks of the uploaded example traces, which need none.
    assert not [run for run in TestRun.objects.all() if run.targets]
    assert TestRun.objects.count() == 2
    case = Application.objects.get(title=ADMITTED)
    assert case.state == State.IN_SANDBOX
    evaluation = case.evaluations.get()
    assert "protocol.block.parent_hash_linkage" in not_assessed(evaluation)
    assert evaluation.reports.get().status == ReportStatus.READY
    assert "evidence skipped" not in load()


# -- run_now: a run executed in the calling process ---------------------------------------


@pytest.fixture
def testing_a(people, submitted_a):
    return advance(submitted_a, people, "technical_testing")


def quick_run(app, actor, **overrides):
    arguments = {
        "suites": ["block"],
        "parameters": {"block": {"blocks": 5, "observe_seconds": 0}},
        "node_ids": [app.nodes.get().pk],
        **overrides,
    }
    return services.run_now(app, actor=actor, **arguments)


def test_run_now_runs_the_suites_here_and_records_the_run_like_any_other(
    people, testing_a, reference_node
):
    Node.objects.filter(pk=testing_a.nodes.get().pk).update(endpoint_url=reference_node.url)

    run = quick_run(testing_a, people.olivia)

    assert run.status == RunStatus.SUCCEEDED
    assert run.passed is True
    assert run.progress == 100 and run.attempts == 1
    assert run.requested_by == people.olivia
    assert "attempt 1 started" in run.log
    actions = list(
        AuditEvent.objects.filter(object_id=str(run.pk), action__startswith="test_run.")
        .order_by("pk")
        .values_list("action", "actor_name")
    )
    assert actions == [("test_run.start", "olivia"), ("test_run.finish", "olivia")]


def test_run_now_records_a_run_that_cannot_reach_its_node_as_failed(people, testing_a):
    Node.objects.filter(pk=testing_a.nodes.get().pk).update(endpoint_url="http://127.0.0.1:9")

    run = quick_run(testing_a, people.olivia)

    assert run.status == RunStatus.FAILED
    assert run.error.startswith("block:")
    assert AuditEvent.objects.filter(object_id=str(run.pk), action="test_run.fail").exists()


def test_run_now_refuses_a_firm_user_and_creates_nothing(people, testing_a):
    with pytest.raises(PermissionDenied):
        quick_run(testing_a, people.alice)
    assert not TestRun.objects.exists()


def test_run_now_refuses_a_case_that_is_not_being_tested(people, submitted_a):
    with pytest.raises(IllegalTransition):
        quick_run(submitted_a, people.olivia)
    assert not TestRun.objects.exists()


def test_run_now_refuses_a_node_not_registered_for_the_case_and_unknown_suites(people, testing_a):
    elsewhere = firms.save_node(
        people.firm_b,
        actor=people.bella,
        fields={"label": "b-1", "endpoint_url": "http://127.0.0.1:8546"},
    )
    with pytest.raises(ValidationError):
        quick_run(testing_a, people.olivia, node_ids=[elsewhere.pk])
    with pytest.raises(ValidationError):
        quick_run(testing_a, people.olivia, suites=["speed"])
    assert not TestRun.objects.exists()
