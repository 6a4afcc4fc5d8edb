"""Every test run a user sees comes from here, scoped through the cases they may see
(``applications.queries.applications_for``): regulators see the runs of every submitted
case, a firm its own cases' runs, an auditor the runs of the cases assigned to them."""

from applications.queries import VIEW, applications_for

from .models import SuiteRun, TestRun


def test_runs_for(user, action=VIEW):
    """Test runs of the cases the user may see (always viewed, never edited, by users)."""
    return TestRun.objects.filter(
        application__in=applications_for(user, VIEW).values("pk")
    ).select_related("application", "requested_by", "cancelled_by")


def suite_runs_for(user, action=VIEW):
    return SuiteRun.objects.filter(test_run__in=test_runs_for(user).values("pk"))
