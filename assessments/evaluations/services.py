"""Evaluations and index models: every change goes through here and is audited.

- ``create_evaluation`` scores a case against an index version and chosen finished test
  runs, and locks that index version for good.
- ``issue_evaluation`` freezes an evaluation: its canonical JSON and that JSON's SHA-256
  are written once, and from then on neither the row nor its test runs can change.
- ``new_version`` copies an index model into a new draft version; ``import_index`` reads a
  YAML file as a new version.

Services raise PermissionDenied (role), IllegalTransition / Frozen (wrong state) and
ValidationError (bad input), and change nothing when they do.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Prefetch
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from applications.models import Application, State
from applications.services.common import IllegalTransition
from assessments import outcomes
from assessments.models import FINISHED_STATUSES, SuiteRun, TestRun
from sandbox_portal.audit.services import record

from . import canonical, inputs, scoring, yaml_io
from .models import Evaluation, EvaluationStatus, IndexModel, IndexStatus

# A draft case was never submitted and a withdrawn one is closed: neither is evaluated.
NOT_EVALUABLE = (State.DRAFT, State.WITHDRAWN)


def _require_regulator(actor, message):
    if not (actor.is_authenticated and actor.is_active and actor.is_regulator):
        raise PermissionDenied(message)


def _require_staff(actor, message):
    if actor is not None and not (actor.is_superuser or actor.is_portal_staff):
        raise PermissionDenied(message)


def lock_index(index_model):
    """Lock an index version (idempotent). A queryset update: ``save`` refuses locked rows."""
    if index_model.status != IndexStatus.LOCKED:
        now = timezone.now()
        IndexModel.objects.filter(pk=index_model.pk, status=IndexStatus.DRAFT).update(
            status=IndexStatus.LOCKED, locked_at=now
        )
        index_model.status, index_model.locked_at = IndexStatus.LOCKED, now
    return index_model


@transaction.atomic
def new_version(index_model, *, actor=None):
    """A new draft version of ``index_model``'s name, copying its whole tree."""
    _require_staff(actor, "Only staff can make a new version of an index model.")
    copy = yaml_io.create_from_tree(yaml_io.tree_of(index_model), name=index_model.name)
    record(
        actor=actor,
        action="index_model.new_version",
        target=copy,
        before={"copied_from": index_model.pk, "version": index_model.version},
        after={"version": copy.version},
    )
    return copy


@transaction.atomic
def import_index(text, *, actor=None):
    """Import YAML text as a new draft version of the index it names."""
    _require_staff(actor, "Only staff can import an index model.")
    index = yaml_io.import_text(text)
    record(
        actor=actor,
        action="index_model.import",
        target=index,
        after={"name": index.name, "version": index.version},
    )
    return index


def default_index_model():
    """The latest version of the default index (what a new evaluation uses by default)."""
    return yaml_io.default_index()


def _chosen_runs(application, test_run_ids):
    ids = []
    for value in test_run_ids or ():
        try:
            ids.append(int(value))
        except (TypeError, ValueError) as exc:
            raise ValidationError({"test_runs": f"{value!r} is not a test run id."}) from exc
    ids = sorted(set(ids))
    found = set(
        TestRun.objects.filter(
            pk__in=ids, application=application, status__in=FINISHED_STATUSES
        ).values_list("pk", flat=True)
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError(
            {
                "test_runs": "Not a finished test run of this case: "
                + ", ".join(str(i) for i in missing)
                + "."
            }
        )
    return ids


def create_evaluation(application, *, actor, index_model=None, test_run_ids=()):
    """Regulator: score the case now against an index version and chosen finished runs.

    The evaluation is the case's next version (1, 2, ...), a draft until issued; the index
    version it used is locked. Inputs the runs and the case do not provide are "not
    assessed", never zero.
    """
    _require_regulator(actor, "Only a regulator can evaluate a case.")
    index_model = index_model or default_index_model()
    with transaction.atomic():
        app = (
            Application.objects.select_for_update().select_related("project").get(pk=application.pk)
        )
        if app.state in NOT_EVALUABLE:
            raise IllegalTransition(
                f"This case is {app.get_state_display().lower()}; it cannot be evaluated."
            )
        run_ids = _chosen_runs(app, test_run_ids)
        index_model = IndexModel.objects.get(pk=index_model.pk)
        tree = yaml_io.tree_of(index_model)
        values, sources, inconclusive = inputs.collect(app, run_ids, tree)
        category, level = app.project.category, app.target_level
        results = scoring.evaluate(
            tree, values, category=category, level=level, inconclusive=inconclusive
        )
        lock_index(index_model)
        version = (app.evaluations.aggregate(v=Max("version"))["v"] or 0) + 1
        evaluation = Evaluation.objects.create(
            application=app,
            index_model=index_model,
            version=version,
            inputs={
                "values": values,
                "sources": sources,
                "inconclusive": inconclusive,
                "category": category,
                "target_level": level,
                "test_runs": run_ids,
            },
            results=results,
            overall_score=None if results["overall"] is None else round(results["overall"], 2),
            recommendation=results["recommendation"],
            created_by=actor,
        )
        evaluation.test_runs.set(run_ids)
        record(
            actor=actor,
            action="evaluation.create",
            target=evaluation,
            after={
                "version": version,
                "index_model": str(index_model),
                "test_runs": run_ids,
                "overall_score": results["overall"],
                "recommendation": results["recommendation"],
                "not_assessed": len(results["not_assessed"]),
                "inconclusive": len(results["inconclusive"]),
            },
        )
    return evaluation


def _run_summaries(evaluation):
    # Only the verdicts: a run's stored results can be large, and there may be hundreds.
    # A run stored without an outcome reads its suites' (from their "outcome" key, else
    # from "passed"), so only those keys of the results are loaded.
    verdicts = Prefetch(
        "suite_runs",
        queryset=SuiteRun.objects.annotate(
            stored_outcome=KeyTransform("outcome", "result"),
            stored_reason=KeyTransform("invalid_reason", "result"),
        ).only("pk", "test_run", "suite", "status", "passed", "outcome", "invalid_reason"),
    )
    runs = (
        evaluation.test_runs.order_by("pk")
        .prefetch_related(verdicts)
        .only("pk", "suites", "status", "finished_at", "outcome", "invalid_reason")
    )
    return [{"id": run.pk, **_run_verdict(run)} for run in runs]


def _run_verdict(run):
    """A run's status and outcome for the canonical JSON (``passed`` kept for readers of
    the format before outcomes: True iff passed, False iff failed)."""
    outcome, reason = run.outcome, run.invalid_reason
    if not outcome:
        suites = []
        for s in run.suite_runs.all():
            result = {"passed": s.passed}
            if s.stored_outcome:
                result = {"outcome": s.stored_outcome, "invalid_reason": s.stored_reason or ""}
            suite_outcome = s.outcome or outcomes.suite_outcome(result, s.passed)
            suites.append(
                (s.suite, suite_outcome, s.invalid_reason or result.get("invalid_reason"))
            )
        outcome = outcomes.combine(o for _, o, _ in suites)
        reason = "; ".join(f"{n}: {r or ''}" for n, o, r in suites if o == outcomes.INVALID)
    return {
        "suites": list(run.suites),
        "status": run.status,
        "finished_at": run.finished_at,
        "passed": outcomes.passed_of(outcome),
        "outcome": outcome,
        "invalid_reason": reason,
    }


def canonical_payload(evaluation):
    """Everything a reader of the report needs, as plain data (before ``canonical.dumps``)."""
    app = evaluation.application
    issued_by = evaluation.issued_by
    return {
        "evaluation": {
            "id": evaluation.pk,
            "version": evaluation.version,
            "created_at": evaluation.created_at,
            "issued_at": evaluation.issued_at,
            "issued_by": {
                "username": issued_by.get_username() if issued_by else "",
                "name": issued_by.get_full_name() if issued_by else "",
            },
        },
        "case": {
            "reference": app.reference,
            "title": app.title,
            "firm": app.firm.name,
            "project": app.project.name,
            "category": evaluation.inputs.get("category", app.project.category),
            "target_level": evaluation.inputs.get("target_level", app.target_level),
            "state": app.state,
        },
        "index_model": {
            "name": evaluation.index_model.name,
            "version": evaluation.index_model.version,
        },
        "results": evaluation.results,
        "inputs": evaluation.inputs,
        "overall_score": evaluation.overall_score,
        "recommendation": evaluation.recommendation,
        "test_runs": _run_summaries(evaluation),
    }


def issue_evaluation(evaluation, *, actor):
    """Regulator: freeze a draft evaluation with its canonical JSON and SHA-256.

    From then on the evaluation, its canonical JSON and its test runs can never change;
    a new assessment is a new version made with ``create_evaluation``.
    """
    _require_regulator(actor, "Only a regulator can issue an evaluation.")
    with transaction.atomic():
        locked = (
            Evaluation.objects.select_for_update()
            .select_related("application__firm", "application__project", "index_model")
            .get(pk=evaluation.pk)
        )
        if locked.status != EvaluationStatus.DRAFT:
            raise IllegalTransition(f"{locked} is already issued.")
        locked.issued_by = actor
        locked.issued_at = timezone.now()
        text = canonical.dumps(canonical_payload(locked))
        locked.canonical_json = text
        locked.sha256 = canonical.sha256(text)
        locked.status = EvaluationStatus.ISSUED
        locked.save()
        record(
            actor=actor,
            action="evaluation.issue",
            target=locked,
            before={"status": EvaluationStatus.DRAFT},
            after={"status": locked.status, "sha256": locked.sha256, "version": locked.version},
        )
    return locked


def issue_evaluation_for(application, actor, *, test_run_ids=None):
    """Create and issue an evaluation of the case in one go (demo data and test set-up).

    Uses every finished test run of the case unless ``test_run_ids`` names them.
    """
    if test_run_ids is None:
        test_run_ids = list(
            application.test_runs.filter(status__in=FINISHED_STATUSES).values_list("pk", flat=True)
        )
    evaluation = create_evaluation(application, actor=actor, test_run_ids=test_run_ids)
    return issue_evaluation(evaluation, actor=actor)
