"""The evaluations and index models a user may see, built on the case scoping.

Regulators and staff see every evaluation of the cases they see; firm users and assigned
auditors see only issued evaluations of their cases (a draft is the regulator's own work).
"""

from applications.queries import VIEW, applications_for

from .models import Evaluation, EvaluationStatus, IndexModel


def evaluations_for(user, action=VIEW):
    qs = Evaluation.objects.filter(
        application__in=applications_for(user, VIEW).values("pk")
    ).select_related("application", "index_model", "created_by", "issued_by")
    if not user.is_authenticated:
        return qs.none()
    if action != VIEW:
        return qs if user.is_regulator else qs.none()
    if user.is_superuser or user.is_portal_staff or user.is_regulator:
        return qs
    return qs.filter(status=EvaluationStatus.ISSUED)


def evaluations_of(user, application):
    """The history of one case's evaluations the user may see, newest version first."""
    return evaluations_for(user).filter(application=application).order_by("-version")


def index_models_for(user):
    if not user.is_authenticated or user.is_firm_user:
        return IndexModel.objects.none()
    return IndexModel.objects.all()
