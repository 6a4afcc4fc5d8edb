"""Monitoring pages: a case's live dashboard, its alert rules, the monitoring summary, the
acknowledgement of an incident, and the regulators' overview of every admitted project.

Cases and incidents come from the scoped queries (anything outside the user's scope
answers 404); every change goes through ``monitoring.services`` or ``monitoring.summary``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from applications import queries as case_queries
from applications.services.common import IllegalTransition
from applications.ui.views import conflict

from .. import services, summary
from ..forms import AlertRulesForm, SummaryForm
from ..queries import incidents_for
from .dashboard import chosen_range, live_context, overview_rows


def _scoped_case(request, pk):
    return get_object_or_404(
        case_queries.applications_for(request.user).select_related("firm", "project"), pk=pk
    )


def _monitoring_url(app):
    return reverse("case-monitoring", args=[app.pk])


def _summary_form(app):
    start, end = summary.default_period(app)
    return SummaryForm(initial={"start": timezone.localdate(start), "end": timezone.localdate(end)})


def _page(request, app, *, rules_form=None, summary_form=None, status=200):
    user = request.user
    span = chosen_range(request.GET.get("range"))
    context = live_context(user, app, span)
    rules = services.rules_of(app)
    context.update(
        {
            "rules": rules,
            "can_edit_rules": services.can_edit_rules(user),
            "can_record_summary": summary.can_record(user) and app.state in summary.SUMMARY_STATES,
        }
    )
    if context["can_edit_rules"]:
        context["rules_form"] = rules_form or AlertRulesForm(instance=rules)
    if context["can_record_summary"]:
        context["summary_form"] = summary_form or _summary_form(app)
    return render(request, "monitoring/case.html", context, status=status)


@login_required
@require_GET
def case_monitoring(request, pk):
    """The case's live dashboard: read only for the firm and its auditors."""
    return _page(request, _scoped_case(request, pk))


@login_required
@require_GET
def case_monitoring_live(request, pk):
    """The part of the dashboard htmx refreshes every few seconds."""
    app = _scoped_case(request, pk)
    span = chosen_range(request.GET.get("range"))
    return render(request, "monitoring/_live.html", live_context(request.user, app, span))


@login_required
@require_http_methods(["GET", "POST"])
def case_monitoring_rules(request, pk):
    """A regulator edits the case's alert thresholds."""
    app = _scoped_case(request, pk)
    if not services.can_edit_rules(request.user):
        raise PermissionDenied("Only regulators change a case's alert rules.")
    rules = services.rules_of(app)
    form = AlertRulesForm(request.POST or None, instance=rules)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_rules(app, actor=request.user, values=form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "The alert rules are saved.")
                return redirect(_monitoring_url(app))
        status = 400
    return render(
        request, "monitoring/rules.html", {"app": app, "form": form, "rules": rules}, status=status
    )


@login_required
@require_POST
def case_monitoring_summary(request, pk):
    """A regulator records the monitoring history of a period as a finished test run."""
    app = _scoped_case(request, pk)
    if not summary.can_record(request.user):
        raise PermissionDenied("Only regulators record a monitoring summary.")
    form = SummaryForm(request.POST)
    if form.is_valid():
        start, end = form.period()
        try:
            run = summary.record_summary(app, actor=request.user, start=start, end=end)
        except ValidationError as exc:
            form.add_error(None, exc)
        except IllegalTransition as exc:
            return conflict(request, exc.message, app)
        else:
            messages.success(request, "The monitoring summary is recorded as a test run.")
            return redirect("run-detail", pk=run.pk)
    return _page(request, app, summary_form=form, status=400)


@login_required
@require_POST
def incident_acknowledge(request, pk):
    """A regulator acknowledges an incident."""
    incident = get_object_or_404(incidents_for(request.user), pk=pk)
    try:
        services.acknowledge(incident, actor=request.user)
    except IllegalTransition as exc:
        return conflict(request, exc.message, incident.application)
    messages.success(request, "The incident is acknowledged.")
    return redirect(_monitoring_url(incident.application))


@login_required
@require_GET
def overview(request):
    """Every admitted, live project at a glance (regulators and staff)."""
    user = request.user
    if not (user.is_regulator or user.is_portal_staff):
        return redirect("dashboard")
    return render(request, "monitoring/overview.html", {"rows": overview_rows(user)})
