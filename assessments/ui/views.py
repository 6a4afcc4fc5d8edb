"""Test run pages: start a run, follow it live, cancel it, read its results.

Cases and runs come from the scoped queries (anything outside the user's scope answers
404); starting and cancelling go through ``assessments.services``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from applications import queries as case_queries
from applications.services.common import IllegalTransition
from applications.ui.views import conflict

from .. import services
from ..forms import StartRunForm
from ..queries import test_runs_for
from .results import run_context

LOG_TAIL_LINES = 80


def _scoped_case(request, pk):
    return get_object_or_404(
        case_queries.applications_for(request.user).select_related("firm", "project"), pk=pk
    )


def _scoped_run(request, pk):
    return get_object_or_404(test_runs_for(request.user).prefetch_related("suite_runs"), pk=pk)


@login_required
@require_GET
def case_runs(request, pk):
    """The case's runs, for the technical tab (an htmx fragment)."""
    app = _scoped_case(request, pk)
    runs = test_runs_for(request.user).filter(application=app)
    return render(
        request,
        "assessments/_case_runs.html",
        {
            "app": app,
            "runs": runs,
            "can_start": services.can_start(request.user, app)
            and app.state in services.RUNNABLE_STATES,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def run_new(request, pk):
    """The regulator's form: suites, nodes and parameters, prefilled from the plan."""
    app = _scoped_case(request, pk)
    if not services.can_start(request.user, app):
        raise PermissionDenied("Only regulators start technical test runs.")
    if app.state not in services.RUNNABLE_STATES:
        return conflict(
            request,
            f"This case is {app.get_state_display().lower()}; test runs are started during "
            "technical testing, evaluation or in the sandbox.",
            app,
        )
    form = StartRunForm(app, data=request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                run = services.start_run(
                    app,
                    actor=request.user,
                    suites=form.cleaned_data["suites"],
                    parameters=form.cleaned_data["parameters"],
                    node_ids=[n.pk for n in form.cleaned_data["nodes"]],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except IllegalTransition as exc:
                return conflict(request, exc.message, app)
            else:
                messages.success(request, "The test run is queued.")
                return redirect("run-detail", pk=run.pk)
        status = 400
    return render(request, "assessments/run_new.html", {"app": app, "form": form}, status=status)


def _live_context(request, run):
    lines = run.log.splitlines()
    return {
        "run": run,
        "app": run.application,
        "log_tail": "\n".join(lines[-LOG_TAIL_LINES:]),
        "log_lines_hidden": max(0, len(lines) - LOG_TAIL_LINES),
        "can_cancel": services.can_cancel(request.user, run),
        # Results are drawn once the run is over; while it runs the page only polls.
        **(run_context(run) if run.is_finished else {}),
    }


@login_required
@require_GET
def run_detail(request, pk):
    run = _scoped_run(request, pk)
    return render(request, "assessments/run_detail.html", _live_context(request, run))


@login_required
@require_GET
def run_live(request, pk):
    """The part of the run page that refreshes every second while the run is going."""
    run = _scoped_run(request, pk)
    return render(request, "assessments/_run_live.html", _live_context(request, run))


@login_required
@require_POST
def run_cancel(request, pk):
    run = _scoped_run(request, pk)
    try:
        services.cancel_run(run, actor=request.user)
    except IllegalTransition as exc:
        return conflict(request, exc.message, run.application)
    messages.info(request, "Cancellation requested: the run stops at its next step.")
    return redirect("run-detail", pk=run.pk)
