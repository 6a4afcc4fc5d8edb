"""The lifecycle actions a user can take on a case, in one table that the case
page, the action forms and the API's ``actions/`` endpoints all read.

Each action names its form (validation shared by page and API), who may see
it, when it applies and the service that carries it out. The service checks
again: listing is a convenience, the service is the authority.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms as django_forms
from django_fsm import can_proceed

from . import forms
from .models import State
from .services import content, lifecycle
from .services.common import is_firm_admin, is_firm_member


class ActionInvalid(Exception):
    """The payload did not validate; ``errors`` maps field names to messages."""

    def __init__(self, errors):
        super().__init__("invalid input")
        self.errors = errors


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    form_class: type[django_forms.Form]
    run: Callable
    who: Callable
    when: Callable
    tone: str = "primary"
    description: str = ""
    form_takes_application: bool = field(default=False)

    def form(self, application, data=None, files=None):
        kwargs = {"application": application} if self.form_takes_application else {}
        return self.form_class(data=data, files=files, **kwargs)


def _fsm(name):
    return lambda app: can_proceed(getattr(app, name))


def _state_in(*states):
    return lambda app: app.state in states


def _firm(user, app):
    return is_firm_member(user, app.firm_id)


def _firm_admin(user, app):
    return is_firm_admin(user, app.firm_id)


def _officer(user, app):
    return user.is_case_officer


def _regulator(user, app):
    return user.is_regulator


def _approver(user, app):
    return user.is_approver


def _approver_not_recommender(user, app):
    return user.is_approver and app.recommended_by_id != user.pk


def _regulator_or_firm(user, app):
    return user.is_regulator or is_firm_member(user, app.firm_id)


def _cleaned(form, *names):
    return {name: form.cleaned_data.get(name) for name in names}


ACTIONS = [
    Action(
        "submit",
        "Submit application",
        forms.ConfirmForm,
        lambda app, user, form: lifecycle.submit(app, actor=user),
        _firm,
        _fsm("submit"),
        description="Send the application to the regulator. The service-level clock starts.",
    ),
    Action(
        "start_screening",
        "Start screening",
        forms.ConfirmForm,
        lambda app, user, form: lifecycle.start_screening(app, actor=user),
        _officer,
        _fsm("start_screening"),
        description="Take the case and check it is complete and in scope.",
    ),
    Action(
        "accept_for_review",
        "Complete screening",
        forms.NoteForm,
        lambda app, user, form: lifecycle.accept_for_review(
            app, actor=user, **_cleaned(form, "note")
        ),
        _officer,
        _fsm("accept_for_review"),
        description="The application is complete: move it to full review.",
    ),
    Action(
        "assess_eligibility",
        "Assess eligibility",
        forms.AssessEligibilityForm,
        lambda app, user, form: lifecycle.assess_eligibility(
            app, actor=user, **form.service_kwargs()
        ),
        _regulator,
        _state_in(State.SCREENING, State.UNDER_REVIEW),
        description="Assess the five eligibility criteria: met, not met or unclear.",
        form_takes_application=True,
    ),
    Action(
        "request_information",
        "Request information",
        forms.RequestInformationForm,
        lambda app, user, form: lifecycle.request_information(
            app, actor=user, **_cleaned(form, "question", "due_date")
        ),
        _regulator,
        _fsm("request_information"),
        description="Ask the firm a question. The clock pauses until it answers.",
    ),
    Action(
        "answer_information",
        "Answer the request",
        forms.AnswerInformationForm,
        lambda app, user, form: lifecycle.answer_information(
            app, actor=user, **_cleaned(form, "answer")
        ),
        _firm,
        _fsm("answer_information"),
        description="Answer the regulator's question. The clock restarts.",
    ),
    Action(
        "send_to_testing",
        "Send to technical testing",
        forms.NoteForm,
        lambda app, user, form: lifecycle.send_to_testing(
            app, actor=user, **_cleaned(form, "note")
        ),
        _officer,
        lambda app: can_proceed(app.send_to_testing) and app.target_level > 0,
        description="Eligibility is assessed: test the firm's system.",
    ),
    Action(
        "send_to_evaluation",
        "Move to evaluation",
        forms.NoteForm,
        lambda app, user, form: lifecycle.send_to_evaluation(
            app, actor=user, **_cleaned(form, "note")
        ),
        _officer,
        _fsm("send_to_evaluation"),
        description="The evidence is in: evaluate the case.",
    ),
    Action(
        "recommend",
        "Recommend",
        forms.RecommendForm,
        lambda app, user, form: lifecycle.recommend(
            app, actor=user, **_cleaned(form, "recommendation", "rationale", "evaluation")
        ),
        _regulator,
        _fsm("recommend"),
        description="Recommend a decision, citing an issued access evaluation. "
        "Another regulator, an approver, decides.",
        form_takes_application=True,
    ),
    Action(
        "decide",
        "Decide",
        forms.DecideForm,
        lambda app, user, form: lifecycle.decide(
            app,
            actor=user,
            **_cleaned(form, "outcome", "rationale", "conditions", "testing_parameters"),
        ),
        _approver_not_recommender,
        _state_in(State.RECOMMENDED),
        description="Admit, admit with conditions, or reject.",
    ),
    Action(
        "start_sandbox",
        "Start the testing period",
        forms.StartSandboxForm,
        lambda app, user, form: lifecycle.start_sandbox(
            app, actor=user, **_cleaned(form, "ends_on")
        ),
        _regulator,
        _fsm("start_sandbox"),
        description="The firm begins testing in the sandbox.",
    ),
    Action(
        "submit_report",
        "File a report",
        forms.FirmReportForm,
        lambda app, user, form: lifecycle.submit_report(
            app,
            actor=user,
            **_cleaned(form, "kind", "title", "body", "period_start", "period_end", "occurred_at"),
        ),
        _firm,
        _state_in(State.IN_SANDBOX),
        description="A periodic, incident or final report on the test.",
    ),
    Action(
        "start_exit_review",
        "Start exit review",
        forms.NoteForm,
        lambda app, user, form: lifecycle.start_exit_review(
            app, actor=user, **_cleaned(form, "note")
        ),
        _regulator_or_firm,
        _fsm("start_exit_review"),
        description="The test is over: review the final report and decide the exit.",
    ),
    Action(
        "close_exit",
        "Decide the exit",
        forms.CloseExitForm,
        lambda app, user, form: lifecycle.close_exit(
            app, actor=user, **_cleaned(form, "outcome", "rationale")
        ),
        _approver,
        _fsm("close_exit"),
        description="Authorised, extended or terminated.",
    ),
    Action(
        "withdraw",
        "Withdraw",
        forms.WithdrawForm,
        lambda app, user, form: lifecycle.withdraw(app, actor=user, **_cleaned(form, "reason")),
        _firm_admin,
        _fsm("withdraw"),
        tone="danger",
        description="Withdraw the application. It stays on record.",
    ),
    Action(
        "set_tier_status",
        "Set a tier's status",
        forms.TierStatusForm,
        lambda app, user, form: content.set_tier_status(
            app, actor=user, **_cleaned(form, "tier", "status", "reason")
        ),
        _regulator,
        lambda app: app.state not in (State.DRAFT, *content.CLOSED_STATES),
        tone="secondary",
        description="Record a tier's status and why.",
    ),
    Action(
        "set_achieved_level",
        "Set achieved technical level",
        forms.AchievedLevelForm,
        lambda app, user, form: content.set_achieved_level(
            app, actor=user, **_cleaned(form, "level", "reason")
        ),
        _regulator,
        lambda app: app.state not in (State.DRAFT, *content.CLOSED_STATES),
        tone="secondary",
        description="The technical level the evidence supports.",
    ),
    Action(
        "assign_officer",
        "Assign case officer",
        forms.AssignOfficerForm,
        lambda app, user, form: content.assign_case_officer(
            app, actor=user, officer=form.cleaned_data["officer"]
        ),
        _regulator,
        lambda app: app.state not in (State.DRAFT, *content.CLOSED_STATES),
        tone="secondary",
        form_takes_application=True,
    ),
    Action(
        "assign_auditor",
        "Assign an auditor",
        forms.AssignAuditorForm,
        lambda app, user, form: content.assign_auditor(
            app,
            actor=user,
            auditor=form.cleaned_data["auditor"],
            revoke=form.cleaned_data["revoke"],
        ),
        lambda user, app: user.is_regulator or user.is_portal_staff,
        lambda app: app.state != State.DRAFT,
        tone="secondary",
        form_takes_application=True,
    ),
]
ACTIONS_BY_NAME = {action.name: action for action in ACTIONS}
# Lifecycle steps, as opposed to the case-management actions listed after them.
SECONDARY = {a.name for a in ACTIONS if a.tone == "secondary"}


def refusal_message(action, user, application):
    if action.name == "decide" and user.is_approver and application.recommended_by_id == user.pk:
        return "Four-eyes: the regulator who recommended this case cannot decide it."
    return f"Your role cannot take the action '{action.label}' on this case."


def available_actions(user, application):
    """The actions this user may take on this case now."""
    return [a for a in ACTIONS if a.who(user, application) and a.when(application)]


def get_action(name):
    return ACTIONS_BY_NAME.get(name)


def check_allowed(action, application, user):
    """Refuse an action this user may not take (``PermissionDenied``) or the case's
    state does not allow now (``IllegalTransition``), before any payload is read."""
    from django.core.exceptions import PermissionDenied

    from .services.common import IllegalTransition

    if not action.who(user, application):
        raise PermissionDenied(refusal_message(action, user, application))
    if not action.when(application):
        raise IllegalTransition(
            f"This case is {application.get_state_display().lower()}; "
            f"'{action.label}' cannot be taken now."
        )


def take_action(action, application, user, data=None, files=None):
    """Validate the payload with the action's form and run its service.

    Raises ``PermissionDenied`` when the user may not act, ``IllegalTransition``
    when the case's state forbids it (both before the payload is read),
    ``ActionInvalid`` for bad input, and Django's ``ValidationError`` when the
    service refuses the content.
    """
    check_allowed(action, application, user)
    form = action.form(application, data=data, files=files)
    if not form.is_valid():
        raise ActionInvalid(form.errors.get_json_data())
    return action.run(application, user, form)
