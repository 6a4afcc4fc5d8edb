"""Forms shared by the pages and the API: the API validates an action's payload
with the same form the page shows."""

import datetime

from django import forms
from django.forms.fields import InvalidJSONInput, JSONString

from assessments.engine import bounded

from .models import (
    Application,
    AssessmentOutcome,
    ConditionStatus,
    Criterion,
    DecisionOutcome,
    DocumentKind,
    ExitOutcome,
    FirmReportKind,
    MembershipRole,
    Node,
    Personnel,
    Project,
    Relief,
    TechLevel,
    Tier,
    TierState,
    ZoneRegistration,
)
from .models.choices import CRITERION_HELP
from .services.content import ACCEPTED_EXTENSIONS, CONTENT_FIELDS

DATE = forms.DateInput(attrs={"type": "date"})
TEXT = forms.Textarea(attrs={"rows": 3})


class ApplicationForm(forms.ModelForm):
    """The firm's application: test plan, safeguards, relief, exit strategy and
    its answers to the five eligibility criteria."""

    relief_requested = forms.MultipleChoiceField(
        choices=Relief.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Requested regulatory relief",
    )

    class Meta:
        model = Application
        fields = [*CONTENT_FIELDS, "nodes"]
        widgets = {
            "test_start": DATE,
            "test_end": DATE,
            "nodes": forms.CheckboxSelectMultiple,
            **dict.fromkeys(
                (
                    "summary",
                    "hypothesis",
                    "success_metrics",
                    "customer_selection",
                    "safeguard_consent",
                    "safeguard_disclosure",
                    "safeguard_complaints",
                    "safeguard_compensation",
                    "safeguard_capital",
                    "relief_detail",
                    "exit_strategy",
                ),
                TEXT,
            ),
        }

    def __init__(self, *args, firm=None, **kwargs):
        super().__init__(*args, **kwargs)
        firm = firm or (self.instance.firm if self.instance.pk else None)
        self.fields["nodes"].queryset = (
            Node.objects.filter(firm=firm) if firm else Node.objects.none()
        )
        self.fields["nodes"].required = False
        self.fields["nodes"].help_text = "Nodes from your server station to be tested."
        answers = {}
        if self.instance.pk:
            answers = {e.criterion: e.firm_answer for e in self.instance.eligibility.all()}
        for criterion in Criterion:
            self.fields[f"eligibility_{criterion.value}"] = forms.CharField(
                label=criterion.label,
                required=False,
                widget=TEXT,
                help_text=CRITERION_HELP[criterion],
                initial=answers.get(criterion.value, ""),
            )

    def clean(self):
        data = super().clean()
        start, end = data.get("test_start"), data.get("test_end")
        if start and end and end < start:
            self.add_error("test_end", "The test must end after it starts.")
        return data

    def content(self):
        return {
            name: self.cleaned_data[name] for name in CONTENT_FIELDS if name in self.cleaned_data
        }

    def answers(self):
        return {c.value: self.cleaned_data.get(f"eligibility_{c.value}", "") for c in Criterion}

    def nodes(self):
        return list(self.cleaned_data.get("nodes") or [])


class NewApplicationForm(ApplicationForm):
    project = forms.ModelChoiceField(queryset=Project.objects.none())

    def __init__(self, *args, firm=None, projects=None, **kwargs):
        super().__init__(*args, firm=firm, **kwargs)
        self.fields["project"].queryset = (
            projects if projects is not None else Project.objects.none()
        )
        self.order_fields(["project"])


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(choices=DocumentKind.choices)
    file = forms.FileField(help_text="Accepted: " + ", ".join(ACCEPTED_EXTENSIONS))


# ---- Action forms: one per lifecycle action ---------------------------------


class NoteForm(forms.Form):
    note = forms.CharField(required=False, widget=TEXT, label="Note (optional)")


class ConfirmForm(forms.Form):
    pass


class RequestInformationForm(forms.Form):
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    due_date = forms.DateField(required=False, widget=DATE)

    def clean_due_date(self):
        due = self.cleaned_data.get("due_date")
        if due and due < datetime.date.today():
            raise forms.ValidationError("The answer cannot be due in the past.")
        return due


class AnswerInformationForm(forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))


class AssessEligibilityForm(forms.Form):
    """The regulator's rubric: met / not met / unclear with a rationale for each criterion."""

    def __init__(self, *args, application=None, **kwargs):
        super().__init__(*args, **kwargs)
        current = {}
        if application is not None:
            current = {e.criterion: e for e in application.eligibility.all()}
        for criterion in Criterion:
            existing = current.get(criterion.value)
            self.fields[f"{criterion.value}_assessment"] = forms.ChoiceField(
                label=criterion.label,
                # The blank choice keeps an unassessed criterion from showing as "Met".
                choices=AssessmentOutcome.choices,
                required=False,
                initial=existing.assessment if existing else "",
                help_text=(
                    existing.firm_answer
                    if existing and existing.firm_answer
                    else "The firm gave no answer."
                ),
            )
            self.fields[f"{criterion.value}_rationale"] = forms.CharField(
                label="Rationale",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=existing.rationale if existing else "",
            )

    def clean(self):
        data = super().clean()
        for criterion in Criterion:
            outcome = data.get(f"{criterion.value}_assessment")
            rationale = (data.get(f"{criterion.value}_rationale") or "").strip()
            if outcome and not rationale:
                self.add_error(f"{criterion.value}_rationale", "Give a rationale for the outcome.")
        return data

    def service_kwargs(self):
        data = self.cleaned_data
        return {
            "assessments": {
                c.value: (data[f"{c.value}_assessment"], data[f"{c.value}_rationale"].strip())
                for c in Criterion
                if data.get(f"{c.value}_assessment")
            }
        }


class RecommendForm(forms.Form):
    recommendation = forms.ChoiceField(choices=DecisionOutcome.choices)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    evaluation = forms.ModelChoiceField(
        queryset=None,
        required=False,
        help_text="The issued access evaluation the recommendation rests on "
        "(by default the latest).",
    )

    def __init__(self, *args, application=None, **kwargs):
        from assessments.evaluations.models import Evaluation, EvaluationStatus

        super().__init__(*args, **kwargs)
        issued = Evaluation.objects.filter(
            application=application, status=EvaluationStatus.ISSUED
        ).order_by("-version")
        field = self.fields["evaluation"]
        field.queryset = issued
        field.label_from_instance = lambda e: (
            f"Version {e.version}: {e.get_recommendation_display().lower()}, "
            f"score {e.overall_score if e.overall_score is not None else 'n/a'}"
        )
        latest = issued.first() if application is not None else None
        if latest is not None:
            field.initial = latest.pk


class ConditionsField(forms.Field):
    """Conditions as ``[{"text": ..., "due_date": "YYYY-MM-DD"}]`` from the API,
    or one per line as ``YYYY-MM-DD: text`` from the page."""

    widget = forms.Textarea(
        attrs={"rows": 4, "placeholder": "2027-03-31: Appoint a compliance officer"}
    )

    def to_python(self, value):
        if value in (None, "", []):
            return []
        items = []
        if isinstance(value, str):
            for number, line in enumerate(value.splitlines(), start=1):
                if not line.strip():
                    continue
                due, sep, text = line.partition(":")
                if not sep:
                    raise forms.ValidationError(
                        f"Line {number}: write the due date, a colon, then the condition."
                    )
                items.append({"due_date": due.strip(), "text": text.strip(), "line": number})
        elif isinstance(value, list):
            for number, item in enumerate(value, start=1):
                if not isinstance(item, dict):
                    raise forms.ValidationError(f"Condition {number}: expected an object.")
                items.append(
                    {
                        "due_date": str(item.get("due_date", "")),
                        "text": str(item.get("text", "")).strip(),
                        "line": number,
                    }
                )
        else:
            raise forms.ValidationError("Conditions must be a list.")
        conditions = []
        for item in items:
            try:
                due = datetime.date.fromisoformat(item["due_date"])
            except ValueError:
                raise forms.ValidationError(
                    f"Condition {item['line']}: '{item['due_date']}' is not a date (YYYY-MM-DD)."
                ) from None
            if not item["text"]:
                raise forms.ValidationError(f"Condition {item['line']}: the text is empty.")
            if due < datetime.date.today():
                raise forms.ValidationError(f"Condition {item['line']}: the due date has passed.")
            conditions.append((item["text"], due))
        return conditions


class JSONObjectField(forms.JSONField):
    """A JSON field whose empty value shows as an empty box rather than ``null``.

    Its text is checked for size (``max_chars``) and nesting (``bounded.MAX_DEPTH``) before
    it reaches the decoder, when it is cleaned and when a refused form shows it again.
    """

    max_chars = 20_000

    def _refusal(self, value):
        """Why the text ``value`` may not be decoded, or None."""
        if not isinstance(value, str) or isinstance(value, JSONString):
            return None  # already decoded (a JSON body), nothing to parse
        if value in self.empty_values:
            return None
        if len(value) > self.max_chars:
            return f"The JSON is longer than the limit of {self.max_chars:,} characters."
        try:
            bounded.check_depth(value)
        except bounded.TooDeeplyNested:
            return f"The JSON is nested deeper than the limit of {bounded.MAX_DEPTH} levels."
        return None

    def to_python(self, value):
        refusal = None if self.disabled else self._refusal(value)
        if refusal:
            raise forms.ValidationError(refusal, code="invalid")
        return super().to_python(value)

    def bound_data(self, data, initial):
        if not self.disabled and self._refusal(data):
            return InvalidJSONInput(data)
        return super().bound_data(data, initial)

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(choices=DecisionOutcome.choices)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    conditions = ConditionsField(
        required=False,
        help_text=("For an admission with conditions: one per line, 'YYYY-MM-DD: condition'."),
    )
    testing_parameters = JSONObjectField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": '{"max_customers": 500}'}),
        help_text="Testing parameters as a JSON object, e.g. customer and transaction limits.",
    )

    def clean_testing_parameters(self):
        value = self.cleaned_data.get("testing_parameters")
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError("Testing parameters must be a JSON object.")
        return value

    def clean(self):
        data = super().clean()
        outcome, conditions = data.get("outcome"), data.get("conditions")
        if outcome == DecisionOutcome.ADMIT_WITH_CONDITIONS and not conditions:
            self.add_error("conditions", "Admission with conditions needs at least one condition.")
        if outcome and outcome != DecisionOutcome.ADMIT_WITH_CONDITIONS and conditions:
            self.add_error("conditions", "Only an admission with conditions carries conditions.")
        return data


class StartSandboxForm(forms.Form):
    ends_on = forms.DateField(
        required=False,
        widget=DATE,
        help_text="The end of the testing period; by default the test plan's end date.",
    )


class FirmReportForm(forms.Form):
    kind = forms.ChoiceField(choices=FirmReportKind.choices)
    title = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}))
    period_start = forms.DateField(required=False, widget=DATE)
    period_end = forms.DateField(required=False, widget=DATE)
    occurred_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="For incidents: when it happened.",
    )


class CloseExitForm(forms.Form):
    outcome = forms.ChoiceField(choices=ExitOutcome.choices)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))


class WithdrawForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))


class TierStatusForm(forms.Form):
    tier = forms.ChoiceField(choices=Tier.choices)
    status = forms.ChoiceField(choices=TierState.choices)
    reason = forms.CharField(widget=TEXT)


class AchievedLevelForm(forms.Form):
    level = forms.TypedChoiceField(choices=TechLevel.choices, coerce=int)
    reason = forms.CharField(widget=TEXT)


class AssignOfficerForm(forms.Form):
    officer = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, application=None, **kwargs):
        from .queries import assignable_officers

        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = assignable_officers()


class AssignAuditorForm(forms.Form):
    auditor = forms.ModelChoiceField(queryset=None)
    revoke = forms.BooleanField(required=False, help_text="Tick to withdraw the auditor's access.")

    def __init__(self, *args, application=None, **kwargs):
        from .queries import auditors_qs

        super().__init__(*args, **kwargs)
        self.fields["auditor"].queryset = auditors_qs()


class ConditionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ConditionStatus.choices)
    note = forms.CharField(required=False, widget=TEXT)


# ---- Firm and physical tier --------------------------------------------------


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "category", "description"]
        widgets = {"description": TEXT}


class NodeForm(forms.ModelForm):
    # Not a field of the node: it goes with an endpoint change that needs approval.
    change_reason = forms.CharField(
        label="Reason for an endpoint change",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown to the case officer when the new endpoint needs their approval.",
    )

    class Meta:
        model = Node
        fields = ["label", "endpoint_url", "location", "operator"]
        labels = {"endpoint_url": "Endpoint URL"}
        help_texts = {"endpoint_url": "http(s) or ws(s), e.g. https://node.example.com:8545"}


class EndpointChangeDecisionForm(forms.Form):
    note = forms.CharField(
        label="Note to the firm",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed to refuse.",
    )


class PersonnelForm(forms.ModelForm):
    class Meta:
        model = Personnel
        fields = ["name", "role", "on_site"]


class ZoneRegistrationForm(forms.ModelForm):
    class Meta:
        model = ZoneRegistration
        fields = ["zone", "registered_address", "registration_number", "registered_on"]
        widgets = {"registered_on": DATE, "registered_address": TEXT}


class InviteMemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField()
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=MembershipRole.choices, initial=MembershipRole.MEMBER)
