"""Every report a user sees comes from here, scoped through the cases they may see
(``applications.queries.applications_for``): the firm its own cases' reports, regulators
those of every submitted case, an auditor those of the cases assigned to them. A report
outside the scope answers 404."""

from applications.queries import VIEW, applications_for

from .models import AccessEvaluationReport


def reports_for(user, action=VIEW):
    """Reports of the evaluations of the cases the user may see (never edited by users)."""
    return AccessEvaluationReport.objects.filter(
        evaluation__application__in=applications_for(user, VIEW).values("pk")
    ).select_related("evaluation", "evaluation__application", "requested_by")
