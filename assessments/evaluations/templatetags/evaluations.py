"""``{% case_evaluations app %}``: the evaluation history section of the technical tab."""

from django import template

from ..queries import evaluations_of
from ..services import NOT_EVALUABLE

register = template.Library()


@register.inclusion_tag("evaluations/_case_evaluations.html", takes_context=True)
def case_evaluations(context, app):
    user = context["request"].user
    return {
        "app": app,
        "evaluations": evaluations_of(user, app).select_related("index_model"),
        "can_evaluate": user.is_regulator and app.state not in NOT_EVALUABLE,
        "is_regulator": user.is_regulator,
    }
