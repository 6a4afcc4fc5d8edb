"""Evaluation pages: evaluate a case, read an evaluation, issue it.

Cases and evaluations come from the scoped queries (outside the user's scope: 404);
creating and issuing go through ``evaluations.services``.
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
from ..forms import NewEvaluationForm
from ..queries import evaluations_for


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_new(request, pk):
    """The regulator's form: which finished test runs, which index version."""
    app = get_object_or_404(
        case_queries.applications_for(request.user).select_related("firm", "project"), pk=pk
    )
    if not request.user.is_regulator:
        raise PermissionDenied("Only regulators evaluate a case.")
    if app.state in services.NOT_EVALUABLE:
        return conflict(
            request, f"This case is {app.get_state_display().lower()}; it cannot be evaluated.", app
        )
    form = NewEvaluationForm(app, data=request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                evaluation = services.create_evaluation(
                    app,
                    actor=request.user,
                    index_model=form.cleaned_data["index_model"],
                    test_run_ids=[run.pk for run in form.cleaned_data["test_runs"]],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except IllegalTransition as exc:
                return conflict(request, exc.message, app)
            else:
                messages.success(request, f"Evaluation version {evaluation.version} created.")
                return redirect("evaluation-detail", evaluation.pk)
        status = 400
    return render(
        request, "evaluations/evaluation_new.html", {"app": app, "form": form}, status=status
    )


@login_required
@require_GET
def evaluation_detail(request, pk):
    """The indicator tree with weights, inputs and scores, and the recommendation."""
    evaluation = get_object_or_404(evaluations_for(request.user), pk=pk)
    app = evaluation.application
    history = evaluations_for(request.user).filter(application=app).order_by("-version")
    return render(
        request,
        "evaluations/evaluation_detail.html",
        {
            "evaluation": evaluation,
            "app": app,
            "results": evaluation.results,
            "history": history,
            "test_runs": evaluation.test_runs.order_by("pk"),
            "can_issue": request.user.is_regulator and not evaluation.is_issued,
        },
    )


@login_required
@require_POST
def evaluation_issue(request, pk):
    evaluation = get_object_or_404(evaluations_for(request.user), pk=pk)
    try:
        issued = services.issue_evaluation(evaluation, actor=request.user)
    except IllegalTransition as exc:
        return conflict(request, exc.message, evaluation.application)
    messages.success(
        request, f"Evaluation version {issued.version} issued; it can no longer change."
    )
    return redirect("evaluation-detail", issued.pk)
