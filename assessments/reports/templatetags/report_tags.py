"""``{% evaluation_reports evaluation %}``: the reports block of an evaluation's page."""

from django import template

from .. import services
from ..queries import reports_for

register = template.Library()


@register.inclusion_tag("reports/_evaluation_reports.html", takes_context=True)
def evaluation_reports(context, evaluation):
    user = context["request"].user
    return {
        "evaluation": evaluation,
        "reports": reports_for(user).filter(evaluation=evaluation).order_by("-created_at"),
        "can_request": evaluation.is_issued and services.can_request(user, evaluation),
        "csrf_token": context.get("csrf_token"),
    }
