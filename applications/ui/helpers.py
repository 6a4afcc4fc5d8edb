"""What the case pages show, gathered from the scoped queries.

Views stay thin: they authorize through ``applications.queries`` and hand the
case to these builders, which read (never change) what the user may see.
"""

import json
from datetime import timedelta

from django.core.paginator import Paginator
from django.db.models import Count, F
from django.utils import timezone

from .. import queries
from ..clock import service_clock
from ..models import (
    AssessmentOutcome,
    ConditionStatus,
    Criterion,
    Decision,
    DecisionOutcome,
    DocumentKind,
    ExitOutcome,
    FirmReportKind,
    Relief,
    State,
    Tier,
    TierState,
)
from ..services.common import is_firm_member
from ..services.content import CLOSED_STATES, EDITABLE_STATES

PAGE_SIZE = 25

TABS = [
    ("overview", "Overview"),
    ("eligibility", "Eligibility"),
    ("physical", "Physical tier"),
    ("technical", "Technical tier"),
    ("documents", "Documents"),
    ("rfis", "Requests for information"),
    ("decision", "Decision"),
    ("reports", "Firm reports"),
    ("timeline", "Timeline"),
]
TAB_NAMES = {name for name, _ in TABS}

# After an action, the tab that shows what it changed.
ACTION_TAB = {
    "assess_eligibility": "eligibility",
    "request_information": "rfis",
    "answer_information": "rfis",
    "recommend": "decision",
    "decide": "decision",
    "start_sandbox": "decision",
    "submit_report": "reports",
    "close_exit": "decision",
    "set_tier_status": "technical",
    "set_achieved_level": "technical",
}

# What the firm does next, or waits for, in each state.
FIRM_NEXT_STEP = {
    State.DRAFT: "Complete the application and submit it",
    State.SUBMITTED: "Waiting for the regulator to start screening",
    State.SCREENING: "The regulator is screening the application",
    State.UNDER_REVIEW: "The regulator is reviewing the application",
    State.AWAITING_FIRM: "Answer the regulator's request for information",
    State.TECHNICAL_TESTING: "Your nodes are being tested",
    State.EVALUATION: "The regulator is evaluating the evidence",
    State.RECOMMENDED: "Waiting for the approver's decision",
    State.ADMITTED: "Admitted: the testing period starts soon",
    State.ADMITTED_WITH_CONDITIONS: "Admitted with conditions: the testing period starts soon",
    State.REJECTED: "Rejected: see the decision",
    State.IN_SANDBOX: "Testing: file periodic reports, and a final report before exit",
    State.EXIT_REVIEW: "The regulator is reviewing your exit",
    State.EXITED: "Exited",
    State.WITHDRAWN: "Withdrawn",
}

# The audit trail's action codes, in words.
ACTION_WORDS = {
    "application.create": "Created the application",
    "application.update": "Edited the application",
    "application.submit": "Submitted the application",
    "application.start_screening": "Started screening",
    "application.accept_for_review": "Completed screening; the case moved to review",
    "application.request_information": "Requested information from the firm",
    "application.answer_information": "Answered the request for information",
    "application.assess_eligibility": "Assessed the eligibility criteria",
    "application.send_to_testing": "Sent the case to technical testing",
    "application.send_to_evaluation": "Moved the case to evaluation",
    "application.recommend": "Recommended a decision",
    "application.decide": "Decided the case",
    "application.start_sandbox": "Started the testing period",
    "application.submit_report": "Filed a report",
    "application.start_exit_review": "Started the exit review",
    "application.close_exit": "Decided the exit",
    "application.withdraw": "Withdrew the application",
    "application.set_achieved_level": "Set the achieved technical level",
    "application.assign_officer": "Assigned the case officer",
    "application.assign_auditor": "Gave an auditor access",
    "application.revoke_auditor": "Withdrew an auditor's access",
    "tier.set_status": "Set a tier's status",
    "document.upload": "Uploaded a document",
    "document.download": "Downloaded a document",
    "condition.set_status": "Changed a condition's status",
    "test_run.start": "Started a technical test run",
    "test_run.cancel": "Asked to cancel a test run",
    "test_run.finish": "A technical test run finished",
    "test_run.fail": "A technical test run failed",
    "test_run.stopped": "A technical test run was stopped",
    "test_run.requeue": "A test run was re-queued after its worker stopped",
    "trace.upload": "Uploaded a consensus trace or ledger history",
    "trace.check": "An uploaded trace or ledger history was checked",
    "evaluation.create": "Drafted an evaluation",
    "evaluation.issue": "Issued an evaluation",
    "report.request": "Requested the access-evaluation report",
    "report.ready": "The access-evaluation report was signed and stored",
    "report.fail": "The access-evaluation report could not be rendered",
    "report.download": "Downloaded the access-evaluation report",
    "node.endpoint_change_request": "Asked to change a node's endpoint",
    "node.endpoint_change_withdraw": "Withdrew a node endpoint change",
    "node.endpoint_change_approve": "Approved a node endpoint change",
    "node.endpoint_change_refuse": "Refused a node endpoint change",
}

_USER_KEYS = {"case_officer", "auditor"}
# Stored codes shown in words, by the key they are stored under.
_VALUE_LABELS = {
    "state": dict(State.choices),
    "status": {**dict(TierState.choices), **dict(ConditionStatus.choices)},
    "tier": dict(Tier.choices),
    "outcome": {**dict(DecisionOutcome.choices), **dict(ExitOutcome.choices)},
    "recommendation": dict(DecisionOutcome.choices),
    "exit_outcome": dict(ExitOutcome.choices),
    "kind": {**dict(FirmReportKind.choices), **dict(DocumentKind.choices)},
    "assessment": dict(AssessmentOutcome.choices),
}


def action_in_words(code):
    if code in ACTION_WORDS:
        return ACTION_WORDS[code]
    return code.replace(".", ": ").replace("_", " ").capitalize()


# ---- Lists --------------------------------------------------------------------

SORTS = {
    "submitted": (F("submitted_at").asc(nulls_last=True), "pk"),
    "-submitted": (F("submitted_at").desc(nulls_last=True), "-pk"),
    "created": ("created_at", "pk"),
    "-created": ("-created_at", "-pk"),
}
CLOCK_SORTS = {"clock", "-clock"}


def with_clocks(applications):
    """Attach the service clock to each case (uses the prefetched RFIs)."""
    now = timezone.now()
    for app in applications:
        app.clock = service_clock(app, now=now)
    return applications


def _clock_key(app):
    elapsed = app.clock.elapsed
    return (elapsed is None, elapsed or 0, app.pk)


def sorted_page(queryset, sort, page_number, default_sort):
    """One page of cases in the requested order, each with its clock.

    The clock is computed, not stored, so sorting by it loads the filtered
    list once (still a fixed number of queries) and pages in memory.
    """
    if sort not in SORTS and sort not in CLOCK_SORTS:
        sort = default_sort
    if sort in CLOCK_SORTS:
        rows = with_clocks(list(queryset))
        # Cases whose clock has not started go last either way.
        started = sorted(
            (a for a in rows if a.clock.elapsed is not None),
            key=_clock_key,
            reverse=sort == "-clock",
        )
        rows = started + [a for a in rows if a.clock.elapsed is None]
        page = Paginator(rows, PAGE_SIZE).get_page(page_number)
    else:
        page = Paginator(queryset.order_by(*SORTS[sort]), PAGE_SIZE).get_page(page_number)
        with_clocks(page.object_list)
    return page, sort


def state_counts(user):
    """Cases the user may see, counted by state, in lifecycle order."""
    counts = dict(
        queries.applications_for(user)
        .order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return [(value, label, counts.get(value, 0)) for value, label in State.choices]


# ---- Dashboards ---------------------------------------------------------------


def firm_dashboard(user):
    cases = with_clocks(list(queries.application_list(user).order_by("-updated_at")))
    for app in cases:
        app.next_step = FIRM_NEXT_STEP.get(app.state, "")
    open_rfis = (
        queries.rfis_for(user)
        .filter(answered_at__isnull=True)
        .select_related("application")
        .order_by(F("due_date").asc(nulls_last=True), "raised_at")
    )
    today = timezone.localdate()
    in_sandbox = [a for a in cases if a.state == State.IN_SANDBOX]
    for app in in_sandbox:
        app.final_report_soon = bool(
            app.sandbox_ends_on and app.sandbox_ends_on <= today + timedelta(days=30)
        )
    return {
        "cases": cases,
        "open_rfis": list(open_rfis),
        "drafts": [a for a in cases if a.state == State.DRAFT],
        "in_sandbox": in_sandbox,
        "firms": list(queries.firms_for(user)),
    }


def regulator_dashboard(user):
    mine = queries.application_list(user).filter(case_officer=user).exclude(state__in=CLOSED_STATES)
    waiting = (
        queries.application_list(user)
        .filter(state=State.RECOMMENDED)
        .select_related("recommended_by")
    )
    exits = queries.application_list(user).none()
    if user.is_approver:
        waiting = waiting.exclude(recommended_by=user)
        exits = queries.application_list(user).filter(state=State.EXIT_REVIEW)
    new = queries.application_list(user).filter(state=State.SUBMITTED, case_officer__isnull=True)
    return {
        "node_changes": pending_node_changes(user),
        "counts": state_counts(user),
        "assigned": with_clocks(list(mine.order_by(F("submitted_at").asc(nulls_last=True)))),
        "waiting": with_clocks(list(waiting.order_by("recommended_at"))),
        "exits": with_clocks(list(exits.order_by("updated_at"))),
        "new": with_clocks(list(new.order_by("submitted_at"))) if user.is_case_officer else [],
    }


def pending_node_changes(user, limit=20):
    """Pending endpoint changes, oldest first, each with the cases in review that use
    the node (where the case officer decides it)."""
    from ..models import EndpointChangeStatus
    from ..models.node_changes import SUPERVISED_STATES

    pending = queries.node_changes_for(user).filter(status=EndpointChangeStatus.PENDING)
    rows = list(pending.select_related("node__firm").order_by("requested_at", "pk")[:limit])
    cases = queries.applications_for(user).filter(state__in=SUPERVISED_STATES)
    for change in rows:
        change.cases = list(cases.filter(nodes=change.node_id).order_by("pk"))
    return {"total": pending.count(), "rows": rows}


def auditor_dashboard(user):
    return {
        "cases": with_clocks(list(queries.application_list(user).order_by("-submitted_at"))),
    }


def staff_dashboard(user):
    return {
        "counts": state_counts(user),
        "total": queries.applications_for(user).count(),
        "firm_count": queries.firms_for(user).count(),
    }


# ---- The case page ------------------------------------------------------------


def can_upload(user, app):
    """Mirrors ``content.upload_document``: the firm or a regulator, on an open case."""
    if app.state in CLOSED_STATES:
        return False
    return user.is_regulator or is_firm_member(user, app.firm_id)


def can_edit(user, app):
    return (
        user.is_firm_user
        and app.state in EDITABLE_STATES
        and queries.applications_for(user, queries.CHANGE).filter(pk=app.pk).exists()
    )


def tab_context(tab, user, app):
    builder = _TAB_BUILDERS.get(tab)
    return builder(user, app) if builder else {}


def _overview(user, app):
    requested = app.relief_requested or []
    return {"relief": [label for value, label in Relief.choices if value in requested]}


def _eligibility(user, app):
    answers = {
        e.criterion: e
        for e in queries.eligibility_for(user).filter(application=app).select_related("assessed_by")
    }
    return {"criteria": [(c, answers.get(c.value)) for c in Criterion]}


def _physical(user, app):
    tested = set(app.nodes.values_list("pk", flat=True))
    nodes = list(queries.nodes_for(user).filter(firm_id=app.firm_id))
    for node in nodes:
        node.under_test = node.pk in tested
    return {
        "registrations": queries.zone_registrations_for(user)
        .filter(firm_id=app.firm_id)
        .select_related("zone"),
        "personnel": queries.personnel_for(user).filter(firm_id=app.firm_id),
        "nodes": nodes,
    }


def _technical(user, app):
    rows = {
        t.tier: t
        for t in queries.tier_statuses_for(user).filter(application=app).select_related("set_by")
    }
    return {
        "tiers": [(tier, rows.get(tier.value)) for tier in Tier],
        "not_started": TierState.NOT_STARTED,
        "nodes_under_test": queries.nodes_for(user).filter(applications=app),
    }


def _documents(user, app):
    return {
        "documents": queries.documents_for(user)
        .filter(application=app)
        .select_related("uploaded_by"),
        "can_upload": can_upload(user, app),
    }


def _rfis(user, app):
    return {
        "rfis": queries.rfis_for(user)
        .filter(application=app)
        .select_related("raised_by", "answered_by")
    }


def _decision(user, app):
    return {
        "decision": Decision.objects.filter(application=app).select_related("decided_by").first(),
        "conditions": queries.conditions_for(user)
        .filter(application=app)
        .select_related("status_set_by"),
        "can_set_conditions": user.is_regulator,
        "show_recommendation": queries.sees_recommendation(user),
        "exit_outcomes": dict(ExitOutcome.choices),
        "today": timezone.localdate(),
    }


def _reports(user, app):
    return {
        "reports": queries.firm_reports_for(user)
        .filter(application=app)
        .select_related("submitted_by")
    }


def _timeline(user, app):
    return {"events": timeline_entries(queries.audit_events_for(user, app).order_by("-seq"))}


_TAB_BUILDERS = {
    "overview": _overview,
    "eligibility": _eligibility,
    "physical": _physical,
    "technical": _technical,
    "documents": _documents,
    "rfis": _rfis,
    "decision": _decision,
    "reports": _reports,
    "timeline": _timeline,
}


def timeline_entries(events):
    """Audit events as the timeline shows them: who, what in words, and each
    changed field from its old value to its new one."""
    from sandbox_portal.accounts.models import User

    events = list(events)
    user_ids = set()
    for event in events:
        for side in (event.before, event.after):
            if isinstance(side, dict):
                user_ids.update(
                    v for k, v in side.items() if k in _USER_KEYS and isinstance(v, int)
                )
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=user_ids)} if user_ids else {}
    entries = []
    for event in events:
        entries.append(
            {
                "event": event,
                "words": _words(event),
                "actor": str(event.actor) if event.actor else (event.actor_name or "System"),
                "changes": _changes(event.before, event.after, names),
            }
        )
    return entries


def _words(event):
    after = event.after if isinstance(event.after, dict) else {}
    if event.action == "tier.set_status" and after.get("tier") in _VALUE_LABELS["tier"]:
        return f"Set the {_VALUE_LABELS['tier'][after['tier']].lower()} tier's status"
    return action_in_words(event.action)


def _changes(before, after, names):
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    rows = []
    for key in list(dict.fromkeys([*before, *after])):
        old, new = before.get(key), after.get(key)
        if key in before and old == new:
            continue
        rows.append(
            {
                "field": key.replace("_", " ").replace(".", ": "),
                "before": _shown(key, old, names) if key in before else None,
                "after": _shown(key, new, names) if key in after else None,
            }
        )
    return rows


def _shown(key, value, names):
    if value in (None, ""):
        return "(empty)"
    if key in _VALUE_LABELS and isinstance(value, str):
        return _VALUE_LABELS[key].get(value, value)
    if key in _USER_KEYS and isinstance(value, int):
        return names.get(value, f"user #{value}")
    if key == "conditions" and isinstance(value, list):
        return "; ".join(
            f"{item.get('due_date', '?')}: {item.get('text', '')}"
            if isinstance(item, dict)
            else str(item)
            for item in value
        )
    if (
        isinstance(value, dict)
        and value
        and all(not isinstance(v, dict | list) for v in value.values())
    ):
        # A small record (e.g. one criterion's assessment): "assessment: Met; rationale: ..."
        return "; ".join(f"{k.replace('_', ' ')}: {_shown(k, v, names)}" for k, v in value.items())
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
