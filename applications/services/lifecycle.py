"""One service per lifecycle transition (DESIGN.md section 2).

Each locks the case row, checks the actor's role, moves the state machine,
records an audit event in the same transaction and sends its notifications
only after the transaction commits.
"""

import datetime

from django.utils import timezone

from .. import notifications
from ..models import (
    Cohort,
    Condition,
    ConditionStatus,
    Criterion,
    Decision,
    DecisionOutcome,
    EligibilityAnswer,
    FirmReport,
    FirmReportKind,
    RequestForInformation,
    State,
    TechLevel,
    Tier,
    TierState,
)
from .common import (
    IllegalTransition,
    ValidationError,
    after_commit,
    check_state,
    is_firm_admin,
    is_firm_member,
    locked_application,
    move,
    record,
    require,
)
from .content import set_tier_status_locked

OUTCOME_STATE = {
    DecisionOutcome.ADMIT: State.ADMITTED,
    DecisionOutcome.ADMIT_WITH_CONDITIONS: State.ADMITTED_WITH_CONDITIONS,
    DecisionOutcome.REJECT: State.REJECTED,
}


def _record_move(actor, app, action, before_state, reason="", **after):
    record(
        actor=actor,
        action=f"application.{action}",
        target=app,
        before={"state": before_state},
        after={"state": app.state, **after},
        reason=reason,
    )


def missing_for_submission(app):
    """What the firm must still fill in before it can submit."""
    missing = []
    for field in ("hypothesis", "success_metrics", "test_start", "test_end", "exit_strategy"):
        if not getattr(app, field):
            missing.append(app._meta.get_field(field).verbose_name)
    answered = {
        e.criterion for e in EligibilityAnswer.objects.filter(application=app) if e.firm_answer
    }
    for criterion in Criterion:
        if criterion not in answered:
            missing.append(f"eligibility answer: {criterion.label}")
    if app.test_start and app.test_end and app.test_end < app.test_start:
        missing.append("a test end date after the start date")
    return missing


def _check_cohort(app):
    """A cohort takes applications only while its intake is open and it has room."""
    if app.cohort_id is None:
        return
    # Locked so two submissions cannot both take the last place.
    cohort = Cohort.objects.select_for_update().get(pk=app.cohort_id)
    today = timezone.localdate()
    if not cohort.intake_opens <= today <= cohort.intake_closes:
        raise ValidationError(
            f"The intake of {cohort.name} runs from {cohort.intake_opens:%d %B %Y} to "
            f"{cohort.intake_closes:%d %B %Y}; choose rolling intake or another cohort."
        )
    taken = cohort.applications.exclude(state__in=[State.DRAFT, State.WITHDRAWN]).count()
    if taken >= cohort.capacity:
        raise ValidationError(f"{cohort.name} is full ({cohort.capacity} applications).")


def submit(application, *, actor):
    """Firm: draft -> submitted. Starts the service-level clock."""
    with locked_application(application) as app:
        require(is_firm_member(actor, app.firm_id), "Only the firm's own users can submit.")
        check_state(app, "submit")
        missing = missing_for_submission(app)
        if missing:
            raise ValidationError("Complete these before submitting: " + "; ".join(missing) + ".")
        _check_cohort(app)
        before = move(app, "submit")
        app.submitted_at = timezone.now()
        app.save()
        set_tier_status_locked(app, Tier.INSTITUTIONAL, TierState.IN_PROGRESS, actor, "Submitted")
        _record_move(actor, app, "submit", before)
        after_commit(notifications.application_submitted, app.pk)
    return app


def start_screening(application, *, actor):
    """Case officer: submitted -> screening; the officer takes the case if unassigned."""
    with locked_application(application) as app:
        require(actor.is_case_officer, "Only a case officer can screen a case.")
        before = move(app, "start_screening")
        if app.case_officer_id is None:
            app.case_officer = actor
        app.save()
        _record_move(actor, app, "start_screening", before, case_officer=app.case_officer_id)
    return app


def accept_for_review(application, *, actor, note=""):
    """Case officer: screening -> under review (the application is complete and in scope)."""
    with locked_application(application) as app:
        require(actor.is_case_officer, "Only a case officer can complete screening.")
        before = move(app, "accept_for_review")
        app.save()
        _record_move(actor, app, "accept_for_review", before, reason=note)
    return app


def request_information(application, *, actor, question, due_date=None):
    """Regulator: under review -> awaiting firm. Pauses the clock until answered."""
    with locked_application(application) as app:
        require(actor.is_regulator, "Only a regulator can request information.")
        if not question.strip():
            raise ValidationError("Write the question for the firm.")
        before = move(app, "request_information")
        app.save()
        rfi = RequestForInformation.objects.create(
            application=app,
            question=question.strip(),
            due_date=due_date,
            raised_by=actor,
            raised_at=timezone.now(),
        )
        _record_move(actor, app, "request_information", before, rfi=rfi.pk, question=rfi.question)
        after_commit(notifications.rfi_raised, rfi.pk)
    return app


def answer_information(application, *, actor, answer, rfi_id=None):
    """Firm: answers the open RFI; awaiting firm -> under review. Restarts the clock."""
    with locked_application(application) as app:
        require(is_firm_member(actor, app.firm_id), "Only the firm's own users can answer.")
        if not answer.strip():
            raise ValidationError("Write an answer to the regulator's question.")
        open_rfis = app.rfis.filter(answered_at__isnull=True).order_by("raised_at")
        if rfi_id is not None:
            open_rfis = open_rfis.filter(pk=rfi_id)
        rfi = open_rfis.first()
        if app.state == State.AWAITING_FIRM and rfi is None:
            raise ValidationError("There is no open request for information to answer.")
        before = move(app, "answer_information")
        app.save()
        rfi.answer = answer.strip()
        rfi.answered_by = actor
        rfi.answered_at = timezone.now()
        rfi.save(update_fields=["answer", "answered_by", "answered_at"])
        _record_move(actor, app, "answer_information", before, rfi=rfi.pk, answer=rfi.answer)
        after_commit(notifications.rfi_answered, rfi.pk)
    return app


def assess_eligibility(application, *, actor, assessments):
    """Case officer: record the rubric. ``assessments`` maps each criterion to
    ``(outcome, rationale)``. Allowed while the case is under review."""
    with locked_application(application) as app:
        require(actor.is_regulator, "Only a regulator can assess eligibility.")
        if app.state not in (State.UNDER_REVIEW, State.SCREENING):
            raise IllegalTransition(
                f"This case is {app.get_state_display().lower()}; "
                "eligibility is assessed during screening and review."
            )
        now = timezone.now()
        before, after = {}, {}
        for answer in EligibilityAnswer.objects.filter(application=app):
            if answer.criterion not in assessments:
                continue
            outcome, rationale = assessments[answer.criterion]
            if (answer.assessment, answer.rationale) == (outcome, rationale):
                continue
            before[answer.criterion] = {
                "assessment": answer.assessment,
                "rationale": answer.rationale,
            }
            after[answer.criterion] = {"assessment": outcome, "rationale": rationale}
            answer.assessment = outcome
            answer.rationale = rationale
            answer.assessed_by = actor
            answer.assessed_at = now
            answer.save(update_fields=["assessment", "rationale", "assessed_by", "assessed_at"])
        if not after:
            return app
        record(
            actor=actor,
            action="application.assess_eligibility",
            target=app,
            before=before,
            after=after,
        )
    return app


def send_to_testing(application, *, actor, note=""):
    """Case officer: under review -> technical testing. Needs the full rubric."""
    with locked_application(application) as app:
        require(actor.is_case_officer, "Only a case officer can send a case to testing.")
        check_state(app, "send_to_testing")
        if app.target_level == TechLevel.L0:
            raise ValidationError(
                "The target technical level is L0 (no technical testing): "
                "send the case to evaluation instead."
            )
        _require_rubric_complete(app)
        before = move(app, "send_to_testing")
        app.save()
        set_tier_status_locked(app, Tier.TECHNICAL, TierState.IN_PROGRESS, actor, "Testing began")
        _record_move(actor, app, "send_to_testing", before, reason=note)
    return app


def _require_rubric_complete(app):
    pending = [
        e.get_criterion_display()
        for e in EligibilityAnswer.objects.filter(application=app)
        if not e.assessment
    ]
    if pending:
        raise ValidationError(
            "Assess every eligibility criterion first: " + ", ".join(pending) + "."
        )


def send_to_evaluation(application, *, actor, note=""):
    """Case officer: technical testing (or review, for L0) -> evaluation."""
    with locked_application(application) as app:
        require(actor.is_case_officer, "Only a case officer can move a case to evaluation.")
        check_state(app, "send_to_evaluation")
        _require_rubric_complete(app)
        before = move(app, "send_to_evaluation")
        app.save()
        _record_move(actor, app, "send_to_evaluation", before, reason=note)
    return app


def _cited_evaluation(app, evaluation):
    """The issued evaluation a recommendation cites: the one given, else the case's latest.

    Above L0 a recommendation must rest on an issued evaluation of this very case.
    """
    from assessments.evaluations.models import EvaluationStatus

    if evaluation is not None:
        if evaluation.application_id != app.pk:
            raise ValidationError({"evaluation": "That evaluation is not of this case."})
        if evaluation.status != EvaluationStatus.ISSUED:
            raise ValidationError({"evaluation": "Cite an issued evaluation, not a draft."})
        return evaluation
    evaluation = app.evaluations.filter(status=EvaluationStatus.ISSUED).order_by("-version").first()
    if evaluation is None and app.target_level > TechLevel.L0:
        raise ValidationError(
            {
                "evaluation": f"This case targets L{app.target_level}: issue an access "
                "evaluation of it before recommending."
            }
        )
    return evaluation


def _refuse_admission_on_inconclusive(evaluation, field):
    """No admission rests on an evaluation with an inconclusive mandatory indicator: a
    ValidationError on ``field`` says which indicator and why, until it is re-tested."""
    blockers = evaluation.admission_blockers if evaluation is not None else []
    if blockers:
        raise ValidationError({field: [f"{b}." for b in blockers]})


def recommend(application, *, actor, recommendation, rationale, evaluation=None):
    """Regulator: evaluation -> recommended, with an outcome and the reasons.

    The recommendation cites an issued evaluation of the case (``evaluation``, else the
    case's latest issued one); above L0 one is required. An admission (with or without
    conditions) is refused while the cited evaluation has an inconclusive mandatory
    indicator, naming it and why.
    """
    with locked_application(application) as app:
        require(actor.is_regulator, "Only a regulator can recommend.")
        check_state(app, "recommend")
        if recommendation not in DecisionOutcome.values:
            raise ValidationError("Choose admit, admit with conditions or reject.")
        if not rationale.strip():
            raise ValidationError("Give the rationale for the recommendation.")
        cited = _cited_evaluation(app, evaluation)
        if recommendation != DecisionOutcome.REJECT:
            _refuse_admission_on_inconclusive(cited, "recommendation")
        before = move(app, "recommend")
        app.recommendation = recommendation
        app.recommendation_rationale = rationale.strip()
        app.recommended_by = actor
        app.recommended_at = timezone.now()
        app.recommendation_evaluation = cited
        app.save()
        _record_move(
            actor,
            app,
            "recommend",
            before,
            reason=rationale,
            recommendation=recommendation,
            evaluation=cited.pk if cited else None,
            evaluation_sha256=cited.sha256 if cited else "",
        )
        after_commit(notifications.case_recommended, app.pk)
    return app


def decide(application, *, actor, outcome, rationale, conditions=(), testing_parameters=None):
    """Approver: recommended -> admitted | admitted with conditions | rejected.

    Four-eyes: the regulator who recommended the case can never decide it.
    ``conditions`` is a list of ``(text, due_date)``; admission with conditions
    needs at least one. No admission while the evaluation the recommendation cited has an
    inconclusive mandatory indicator (a ValidationError names it).
    """
    with locked_application(application) as app:
        require(actor.is_approver, "Only an approver can decide a case.")
        require(
            app.recommended_by_id != actor.pk,
            "Four-eyes: the regulator who recommended this case cannot decide it.",
        )
        if outcome not in OUTCOME_STATE:
            raise ValidationError("Choose admit, admit with conditions or reject.")
        if not rationale.strip():
            raise ValidationError("Give the rationale for the decision.")
        conditions = list(conditions or [])
        if outcome == DecisionOutcome.ADMIT_WITH_CONDITIONS and not conditions:
            raise ValidationError("Admission with conditions needs at least one condition.")
        if outcome != DecisionOutcome.ADMIT_WITH_CONDITIONS and conditions:
            raise ValidationError("Only an admission with conditions carries conditions.")
        _check_conditions(conditions)
        if outcome != DecisionOutcome.REJECT:
            _refuse_admission_on_inconclusive(app.recommendation_evaluation, "outcome")
        if testing_parameters is not None and not isinstance(testing_parameters, dict):
            raise ValidationError("Testing parameters must be a set of named values.")
        before = move(app, "decide", OUTCOME_STATE[outcome])
        now = timezone.now()
        app.decided_at = now
        app.save()
        decision = Decision.objects.create(
            application=app,
            outcome=outcome,
            rationale=rationale.strip(),
            testing_parameters=testing_parameters or {},
            decided_by=actor,
            decided_at=now,
        )
        created = [
            Condition.objects.create(
                application=app, decision=decision, text=text.strip(), due_date=due
            )
            for text, due in conditions
        ]
        _record_move(
            actor,
            app,
            "decide",
            before,
            reason=rationale,
            outcome=outcome,
            conditions=[{"text": c.text, "due_date": c.due_date} for c in created],
            testing_parameters=decision.testing_parameters,
        )
        set_tier_status_locked(
            app,
            Tier.INSTITUTIONAL,
            TierState.FAILED if outcome == DecisionOutcome.REJECT else TierState.SATISFIED,
            actor,
            f"Decision: {decision.get_outcome_display()}",
        )
        after_commit(notifications.decision_made, app.pk)
    return app


def _check_conditions(conditions):
    today = timezone.localdate()
    for number, condition in enumerate(conditions, start=1):
        try:
            text, due = condition
        except (TypeError, ValueError):
            raise ValidationError(f"Condition {number}: give its text and due date.") from None
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(f"Condition {number}: the text is empty.")
        if not isinstance(due, datetime.date) or isinstance(due, datetime.datetime):
            raise ValidationError(f"Condition {number}: give its due date.")
        if due < today:
            raise ValidationError(f"Condition {number}: the due date has passed.")


def start_sandbox(application, *, actor, ends_on=None):
    """Regulator: admitted -> in sandbox. Starts the testing period, which runs
    to ``ends_on`` (by default the test plan's end date)."""
    with locked_application(application) as app:
        require(actor.is_regulator, "Only a regulator can start the testing period.")
        check_state(app, "start_sandbox")
        ends_on = ends_on or app.test_end
        today = timezone.localdate()
        if ends_on is None or ends_on <= today:
            raise ValidationError("The testing period must end after today.")
        before = move(app, "start_sandbox")
        app.sandbox_started_at = timezone.now()
        app.sandbox_ends_on = ends_on
        app.save()
        _record_move(actor, app, "start_sandbox", before, sandbox_ends_on=ends_on)
    return app


def submit_report(
    application, *, actor, kind, title, body, period_start=None, period_end=None, occurred_at=None
):
    """Firm: a periodic, incident or final report while the case is in the sandbox."""
    with locked_application(application) as app:
        require(is_firm_member(actor, app.firm_id), "Only the firm's own users can report.")
        if app.state != State.IN_SANDBOX:
            raise IllegalTransition(
                f"This case is {app.get_state_display().lower()}; reports are filed in the sandbox."
            )
        if kind not in FirmReportKind.values:
            raise ValidationError("Choose periodic, incident or final.")
        if not title.strip() or not body.strip():
            raise ValidationError("A report needs a title and a body.")
        if period_start and period_end and period_end < period_start:
            raise ValidationError("The period must end after it starts.")
        report = FirmReport.objects.create(
            application=app,
            kind=kind,
            title=title.strip(),
            body=body.strip(),
            period_start=period_start,
            period_end=period_end,
            occurred_at=occurred_at,
            submitted_by=actor,
            submitted_at=timezone.now(),
        )
        record(
            actor=actor,
            action="application.submit_report",
            target=report,
            after={"kind": kind, "title": report.title},
        )
        after_commit(notifications.firm_reported, report.pk)
    return app


def start_exit_review(application, *, actor, note=""):
    """Firm or regulator: in sandbox -> exit review. Needs the firm's final report."""
    with locked_application(application) as app:
        require(
            actor.is_regulator or is_firm_member(actor, app.firm_id),
            "Only the firm or a regulator can start the exit review.",
        )
        check_state(app, "start_exit_review")
        if not app.firm_reports.filter(kind=FirmReportKind.FINAL).exists():
            raise ValidationError("The firm must file its final report before the exit review.")
        before = move(app, "start_exit_review")
        app.save()
        _record_move(actor, app, "start_exit_review", before, reason=note)
    return app


def close_exit(application, *, actor, outcome, rationale):
    """Approver: exit review -> exited, as authorised, extended or terminated."""
    with locked_application(application) as app:
        require(actor.is_approver, "Only an approver can decide an exit.")
        from ..models import ExitOutcome

        if outcome not in ExitOutcome.values:
            raise ValidationError("Choose authorised, extended or terminated.")
        if not rationale.strip():
            raise ValidationError("Give the rationale for the exit.")
        before = move(app, "close_exit")
        app.exit_outcome = outcome
        app.exit_rationale = rationale.strip()
        app.exited_at = timezone.now()
        app.save()
        _record_move(actor, app, "close_exit", before, reason=rationale, exit_outcome=outcome)
        after_commit(notifications.case_exited, app.pk)
    return app


def withdraw(application, *, actor, reason):
    """Firm admin: any state before a decision -> withdrawn. Nothing is deleted."""
    with locked_application(application) as app:
        require(is_firm_admin(actor, app.firm_id), "Only the firm's admin can withdraw a case.")
        if not reason.strip():
            raise ValidationError("Say why the case is withdrawn.")
        before = move(app, "withdraw")
        app.withdrawn_reason = reason.strip()
        app.save()
        _record_move(actor, app, "withdraw", before, reason=reason)
        after_commit(notifications.case_withdrawn, app.pk)
    return app


def set_condition_status(condition, *, actor, status, note=""):
    """Regulator: mark a condition met, breached or waived (or open again)."""
    with locked_application(condition.application):
        require(actor.is_regulator, "Only a regulator can change a condition's status.")
        condition = Condition.objects.select_for_update().get(pk=condition.pk)
        if status not in ConditionStatus.values:
            raise ValidationError("Choose open, met, breached or waived.")
        before = {"status": condition.status, "status_note": condition.status_note}
        condition.status = status
        condition.status_note = note.strip()
        condition.status_set_by = actor
        condition.status_set_at = timezone.now()
        condition.save(update_fields=["status", "status_note", "status_set_by", "status_set_at"])
        record(
            actor=actor,
            action="condition.set_status",
            target=condition,
            before=before,
            after={"status": status, "status_note": condition.status_note},
            reason=note,
        )
    return condition
