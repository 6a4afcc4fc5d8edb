"""Every uploaded trace a user sees comes from here, scoped through the cases they may see
(``applications.queries.applications_for``): the case's firm, regulators, and auditors
assigned to the case."""

from applications.queries import VIEW, applications_for

from .models import TraceUpload


def trace_uploads_for(user, action=VIEW):
    """Uploads of the cases the user may see (viewed only; uploading is ``services.can_upload``)."""
    return TraceUpload.objects.filter(
        application__in=applications_for(user, VIEW).values("pk")
    ).select_related("application", "uploaded_by", "test_run")
