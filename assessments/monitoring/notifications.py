"""Emails about monitoring incidents: to the case officer (or every case officer while the
case has none) and the firm's users, once when an incident opens and once when it clears.
Called after the transaction that opened or cleared it has committed, with its id."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from applications.notifications import firm_emails, officer_emails, send

from .models import Incident


def _recipients(app):
    return sorted(set(officer_emails(app)) | set(firm_emails(app)))


def _page(app):
    return settings.SITE_URL + reverse("case-monitoring", args=[app.pk])


def _where(incident):
    labels = sorted(n.label for n in incident.nodes.all())
    return f" on {', '.join(labels)}" if labels else ""


def _detail_lines(detail):
    lines = []
    for key, value in (detail or {}).items():
        if key in ("node_ids",):
            continue
        if isinstance(value, dict):
            lines.append(f"{key.replace('_', ' ')}:")
            lines += [f"  {k}: {v}" for k, v in value.items()]
        else:
            lines.append(f"{key.replace('_', ' ')}: {value}")
    return lines


def _incident(incident_id):
    return (
        Incident.objects.select_related("application__firm", "application__case_officer")
        .prefetch_related("nodes")
        .get(pk=incident_id)
    )


def incident_opened(incident_id):
    incident = _incident(incident_id)
    app = incident.application
    when = timezone.localtime(incident.opened_at)
    body = "\n".join(
        [
            f"Monitoring of '{app.title}' ({app.firm}) raised an alert: "
            f"{incident.get_rule_display()}{_where(incident)}, at {when:%d %B %Y %H:%M:%S}.",
            "",
            *_detail_lines(incident.detail),
            "",
            f"Follow it here: {_page(app)}",
        ]
    )
    return send(
        f"[{app.reference}] Monitoring alert: {incident.get_rule_display()}{_where(incident)}",
        body + "\n",
        _recipients(app),
    )


def incident_cleared(incident_id):
    incident = _incident(incident_id)
    app = incident.application
    when = timezone.localtime(incident.cleared_at or timezone.now())
    minutes = incident.duration_s / 60
    body = (
        f"The alert '{incident.get_rule_display()}'{_where(incident)} on '{app.title}' cleared "
        f"at {when:%d %B %Y %H:%M:%S}, after {minutes:.1f} minutes: {incident.cleared_reason}.\n"
        f"\nCase monitoring: {_page(app)}\n"
    )
    return send(
        f"[{app.reference}] Cleared: {incident.get_rule_display()}{_where(incident)}",
        body,
        _recipients(app),
    )
