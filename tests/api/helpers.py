"""Small helpers shared by the API tests."""

from applications.models import (
    Application,
    Condition,
    Decision,
    Document,
    EligibilityAnswer,
    FirmMembership,
    FirmReport,
    Node,
    Project,
    RequestForInformation,
)
from sandbox_portal.audit.models import AuditEvent

API = "/api/v1"


def case_url(app, suffix=""):
    return f"{API}/applications/{app.pk}/{suffix}"


def action_url(app, name):
    return f"{API}/applications/{app.pk}/actions/{name}/"


def action_names(response):
    assert response.status_code == 200, response.content
    return {item["name"] for item in response.json()}


def database_state():
    """What a refused request must leave exactly as it was."""
    counts = {
        model.__name__: model.objects.count()
        for model in (
            Application,
            Condition,
            Decision,
            Document,
            EligibilityAnswer,
            FirmMembership,
            FirmReport,
            Node,
            Project,
            RequestForInformation,
            AuditEvent,
        )
    }
    states = dict(Application.objects.values_list("pk", "state"))
    return counts, states
