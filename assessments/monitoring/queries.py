"""Every monitoring queryset a user sees comes from here, scoped through the cases they may
see (``applications.queries.applications_for``): the firm its own cases, regulators every
submitted case, an auditor the cases assigned to them. Anything outside answers 404."""

from applications.queries import VIEW, applications_for

from .models import MONITORED_STATES, Incident, ProbeRollup, ProbeSample


def monitored_cases_for(user, action=VIEW):
    """Admitted, live cases the user may see (the overview lists them for regulators)."""
    return (
        applications_for(user, VIEW)
        .filter(state__in=MONITORED_STATES)
        .select_related("firm", "project", "case_officer", "monitor_state")
    )


def incidents_for(user, action=VIEW):
    """Incidents of the cases the user may see (acknowledging is a regulator's service)."""
    return (
        Incident.objects.filter(application__in=applications_for(user, VIEW).values("pk"))
        .select_related("application", "acknowledged_by")
        .prefetch_related("nodes")
    )


def samples_for(user, action=VIEW):
    return ProbeSample.objects.filter(application__in=applications_for(user, VIEW).values("pk"))


def rollups_for(user, action=VIEW):
    return ProbeRollup.objects.filter(application__in=applications_for(user, VIEW).values("pk"))
