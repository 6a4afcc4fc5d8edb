"""Emails to the people a case concerns. Called only after the transaction that
caused them has committed (``transaction.on_commit``), with ids, so a rolled
back change never mails anyone."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse

from .models import Application, Condition, FirmReport, RequestForInformation

log = logging.getLogger(__name__)


def _case_url(app):
    return settings.SITE_URL + reverse("case-detail", args=[app.pk])


def firm_emails(app):
    return sorted(
        {
            m.user.email
            for m in app.firm.memberships.filter(is_active=True).select_related("user")
            if m.user.email and m.user.is_active
        }
    )


def officer_emails(app):
    from sandbox_portal.accounts.models import Role

    if app.case_officer and app.case_officer.email:
        return [app.case_officer.email]
    User = get_user_model()
    return sorted(
        User.objects.filter(role=Role.CASE_OFFICER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def _approver_emails():
    from sandbox_portal.accounts.models import Role

    User = get_user_model()
    return sorted(
        User.objects.filter(role=Role.APPROVER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def send(subject, body, recipients):
    recipients = [r for r in recipients if r]
    if not recipients:
        return 0
    try:
        return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:  # the change is committed; a mail outage must not turn it into an error
        log.exception("could not send %r to %s", subject, recipients)
        return 0


def application_submitted(app_id):
    app = Application.objects.select_related("firm", "case_officer").get(pk=app_id)
    send(
        f"[{app.reference}] New application from {app.firm}",
        f"{app.firm} submitted '{app.title}'.\n\nOpen the case: {_case_url(app)}\n",
        officer_emails(app),
    )
    send(
        f"[{app.reference}] Your application was submitted",
        f"We received '{app.title}'. You can follow it here: {_case_url(app)}\n",
        firm_emails(app),
    )


def rfi_raised(rfi_id):
    rfi = RequestForInformation.objects.select_related("application__firm").get(pk=rfi_id)
    app = rfi.application
    due = f"\nPlease answer by {rfi.due_date:%d %B %Y}." if rfi.due_date else ""
    send(
        f"[{app.reference}] The regulator asks for information",
        f"{rfi.question}\n{due}\n\nAnswer it here: {_case_url(app)}\n",
        firm_emails(app),
    )


def rfi_answered(rfi_id):
    rfi = RequestForInformation.objects.select_related(
        "application__firm", "application__case_officer", "raised_by"
    ).get(pk=rfi_id)
    app = rfi.application
    recipients = set(officer_emails(app))
    if rfi.raised_by.email:
        recipients.add(rfi.raised_by.email)
    send(
        f"[{app.reference}] {app.firm} answered your request for information",
        f"Question: {rfi.question}\n\nAnswer: {rfi.answer}\n\nCase: {_case_url(app)}\n",
        sorted(recipients),
    )


def case_recommended(app_id):
    app = Application.objects.select_related("firm").get(pk=app_id)
    send(
        f"[{app.reference}] Recommended: {app.get_recommendation_display()}",
        f"'{app.title}' ({app.firm}) awaits a decision.\n\nDecide here: {_case_url(app)}\n",
        _approver_emails(),
    )


def decision_made(app_id):
    app = Application.objects.select_related("firm", "case_officer", "decision").get(pk=app_id)
    decision = app.decision
    lines = [
        f"Decision on '{app.title}': {decision.get_outcome_display()}.",
        "",
        decision.rationale,
    ]
    conditions = list(decision.conditions.all())
    if conditions:
        lines += ["", "Conditions:"]
        lines += [f"- {c.text} (due {c.due_date:%d %B %Y})" for c in conditions]
    lines += ["", f"Case: {_case_url(app)}"]
    body = "\n".join(lines) + "\n"
    send(
        f"[{app.reference}] Decision: {decision.get_outcome_display()}",
        body,
        firm_emails(app) + officer_emails(app),
    )


def firm_reported(report_id):
    report = FirmReport.objects.select_related(
        "application__firm", "application__case_officer"
    ).get(pk=report_id)
    app = report.application
    send(
        f"[{app.reference}] {report.get_kind_display()}: {report.title}",
        f"{app.firm} filed a {report.get_kind_display().lower()}.\n\nCase: {_case_url(app)}\n",
        officer_emails(app),
    )


def case_exited(app_id):
    app = Application.objects.select_related("firm").get(pk=app_id)
    send(
        f"[{app.reference}] Exit: {app.get_exit_outcome_display()}",
        f"'{app.title}' has left the sandbox: {app.get_exit_outcome_display()}.\n\n"
        f"{app.exit_rationale}\n\nCase: {_case_url(app)}\n",
        firm_emails(app) + officer_emails(app),
    )


def case_withdrawn(app_id):
    app = Application.objects.select_related("firm", "case_officer").get(pk=app_id)
    if app.submitted_at is None:
        return
    send(
        f"[{app.reference}] Withdrawn by {app.firm}",
        f"{app.firm} withdrew '{app.title}'.\n\nReason: {app.withdrawn_reason}\n",
        officer_emails(app),
    )


def condition_due(condition_id):
    condition = Condition.objects.select_related(
        "application__firm", "application__case_officer"
    ).get(pk=condition_id)
    app = condition.application
    return send(
        f"[{app.reference}] Condition due on {condition.due_date:%d %B %Y}",
        f"This condition of your admission falls due on {condition.due_date:%d %B %Y}:\n\n"
        f"{condition.text}\n\nCase: {_case_url(app)}\n",
        firm_emails(app) + officer_emails(app),
    )


def member_invited(membership_id):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from .models import FirmMembership

    membership = FirmMembership.objects.select_related("user", "firm", "invited_by").get(
        pk=membership_id
    )
    user = membership.user
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = settings.SITE_URL + reverse("password_reset_confirm", args=[uid, token])
    send(
        f"You are invited to {membership.firm} on Sandbox Portal",
        f"{membership.invited_by} invited you to join {membership.firm} on Sandbox Portal.\n\n"
        f"Your username is {user.username}. Choose your password here:\n{link}\n",
        [user.email],
    )


def _firm_user_emails(firm):
    return sorted(
        {
            m.user.email
            for m in firm.memberships.filter(is_active=True).select_related("user")
            if m.user.email and m.user.is_active
        }
    )


def node_change_requested(change_id):
    """The case officers of every case in review that uses the node: a new endpoint
    waits for their approval, and the old one stays in use until then."""
    from .models import NodeEndpointChange
    from .models.node_changes import SUPERVISED_STATES

    change = NodeEndpointChange.objects.select_related("node__firm").get(pk=change_id)
    node = change.node
    cases = list(
        Application.objects.filter(nodes=node, state__in=SUPERVISED_STATES)
        .select_related("case_officer")
        .order_by("pk")
    )
    recipients = sorted({email for app in cases for email in officer_emails(app)})
    links = "\n".join(f"- {app.reference} {app.title}: {_case_url(app)}" for app in cases)
    reason = f"\nThe firm's reason: {change.reason}\n" if change.reason else ""
    return send(
        f"[{node.firm}] Endpoint change on node {node.label} awaits approval",
        f"{node.firm} asks to move the node '{node.label}'\n"
        f"from {change.old_url}\nto   {change.requested_url}\n{reason}\n"
        "The current address stays in use until a case officer approves the change.\n"
        f"Approve or refuse it on the case page:\n{links}\n",
        recipients,
    )


def node_change_decided(change_id):
    """The firm's users: the case officer approved or refused an endpoint change."""
    from .models import NodeEndpointChange

    change = NodeEndpointChange.objects.select_related("node__firm").get(pk=change_id)
    node = change.node
    outcome = change.get_status_display().lower()
    after = (
        f"The node now uses {change.requested_url}."
        if change.status == "approved"
        else f"The node keeps {change.old_url}."
    )
    note = f"\n\nNote: {change.decision_note}" if change.decision_note else ""
    return send(
        f"Endpoint change on node {node.label}: {outcome}",
        f"The change of the node '{node.label}' to {change.requested_url} was {outcome}.\n"
        f"{after}{note}\n",
        _firm_user_emails(node.firm),
    )
