"""How cases and their objects look in the API, and what a client may send.

Read serializers shape the output only. Write serializers check types and
scope (an id the caller cannot see is refused as unknown) and hand plain
values to a service; the service decides whether the change is allowed.
"""

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import queries
from ..clock import service_clock
from ..models import (
    Application,
    Cohort,
    Condition,
    ConditionStatus,
    Criterion,
    Decision,
    Document,
    DocumentKind,
    EligibilityAnswer,
    Firm,
    FirmMembership,
    FirmReport,
    MembershipRole,
    Node,
    Personnel,
    Project,
    Relief,
    RequestForInformation,
    TierStatus,
    Zone,
    ZoneRegistration,
)
from ..services.content import CONTENT_FIELDS


def _user(context):
    request = context.get("request")
    return getattr(request, "user", None)


class RejectUnknownFields:
    """Refuse fields this payload cannot set, rather than silently ignoring
    them: a client sending ``state`` learns that states change through actions."""

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            settable = {name for name, field in self.fields.items() if not field.read_only}
            given = {key.split(".")[0].split("[")[0] for key in data}
            unknown = sorted(given - settable - {"csrfmiddlewaretoken"})
            if unknown:
                raise serializers.ValidationError(
                    dict.fromkeys(unknown, ["This field cannot be set here."])
                )
        return super().to_internal_value(data)


class PersonSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "name"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_name(self, user):
        return user.get_full_name() or user.username


class FirmRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Firm
        fields = ["id", "name"]
        read_only_fields = fields


class ProjectRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "category"]
        read_only_fields = fields


class CohortRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Cohort
        fields = ["id", "name", "intake_opens", "intake_closes", "capacity"]
        read_only_fields = fields


class ClockSerializer(serializers.Serializer):
    """The regulator's service-level clock: working days, RFI time excluded."""

    elapsed = serializers.IntegerField(allow_null=True)
    target = serializers.IntegerField()
    remaining = serializers.IntegerField(allow_null=True)
    paused = serializers.BooleanField()
    running = serializers.BooleanField()
    overdue = serializers.BooleanField()
    label = serializers.CharField()

    def to_representation(self, clock):
        return {
            "elapsed": clock.elapsed,
            "target": clock.target,
            "remaining": clock.remaining,
            "paused": clock.paused,
            "running": clock.running,
            "overdue": clock.overdue,
            "label": clock.label,
        }


# ---- Cases -------------------------------------------------------------------


class ApplicationListSerializer(serializers.ModelSerializer):
    """A row of the queue: what a list shows, loaded by ``queries.application_list``."""

    state_display = serializers.CharField(source="get_state_display", read_only=True)
    firm = FirmRefSerializer(read_only=True)
    project = ProjectRefSerializer(read_only=True)
    case_officer = PersonSerializer(read_only=True, allow_null=True)
    clock = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = [
            "id",
            "reference",
            "title",
            "state",
            "state_display",
            "firm",
            "project",
            "cohort",
            "case_officer",
            "target_level",
            "achieved_level",
            "created_at",
            "updated_at",
            "submitted_at",
            "decided_at",
            "clock",
        ]
        read_only_fields = fields

    @extend_schema_field(ClockSerializer)
    def get_clock(self, app):
        return ClockSerializer(service_clock(app)).data


class EligibilitySerializer(serializers.ModelSerializer):
    criterion_display = serializers.CharField(source="get_criterion_display", read_only=True)
    assessed_by = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = EligibilityAnswer
        fields = [
            "criterion",
            "criterion_display",
            "firm_answer",
            "assessment",
            "rationale",
            "assessed_by",
            "assessed_at",
        ]
        read_only_fields = fields


class TierStatusSerializer(serializers.ModelSerializer):
    set_by = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = TierStatus
        fields = ["tier", "status", "set_by", "set_at", "reason"]
        read_only_fields = fields


class NodeRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Node
        fields = ["id", "label", "endpoint_url", "location", "operator"]
        read_only_fields = fields


class DocumentSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = ["id", "kind", "original_name", "content_type", "size", "sha256", "uploaded_at"]
        read_only_fields = fields


class OpenRfiSerializer(serializers.ModelSerializer):
    class Meta:
        model = RequestForInformation
        fields = ["id", "question", "due_date", "raised_at"]
        read_only_fields = fields


class ConditionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Condition
        fields = ["id", "text", "due_date", "status", "status_note", "status_set_at"]
        read_only_fields = fields


class DecisionSerializer(serializers.ModelSerializer):
    decided_by = PersonSerializer(read_only=True)
    conditions = ConditionSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Decision
        fields = [
            "outcome",
            "rationale",
            "testing_parameters",
            "decided_by",
            "decided_at",
            "conditions",
        ]
        read_only_fields = fields


class RecommendationSerializer(serializers.Serializer):
    recommendation = serializers.CharField()
    rationale = serializers.CharField()
    recommended_by = PersonSerializer(allow_null=True)
    recommended_at = serializers.DateTimeField(allow_null=True)


class ApplicationDetailSerializer(ApplicationListSerializer):
    """The whole case: content, eligibility, tiers, nodes, documents, open RFIs,
    the decision with its conditions and the service-level clock.

    The regulator's recommendation is internal until the decision: firm users
    see ``null`` there.
    """

    cohort = CohortRefSerializer(read_only=True, allow_null=True)
    created_by = PersonSerializer(read_only=True)
    relief_requested = serializers.ListField(child=serializers.CharField(), read_only=True)
    nodes = NodeRefSerializer(many=True, read_only=True)
    eligibility = EligibilitySerializer(many=True, read_only=True)
    tier_statuses = TierStatusSerializer(many=True, read_only=True)
    documents = DocumentSummarySerializer(many=True, read_only=True)
    open_rfis = serializers.SerializerMethodField()
    recommendation = serializers.SerializerMethodField()
    decision = serializers.SerializerMethodField()

    class Meta(ApplicationListSerializer.Meta):
        fields = [
            *ApplicationListSerializer.Meta.fields,
            *[name for name in CONTENT_FIELDS if name not in ("title", "cohort", "target_level")],
            "created_by",
            "nodes",
            "eligibility",
            "tier_statuses",
            "documents",
            "open_rfis",
            "recommendation",
            "decision",
            "sandbox_started_at",
            "sandbox_ends_on",
            "exit_outcome",
            "exit_rationale",
            "exited_at",
            "withdrawn_reason",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenRfiSerializer(many=True))
    def get_open_rfis(self, app):
        rfis = [rfi for rfi in app.rfis.all() if rfi.is_open]
        return OpenRfiSerializer(rfis, many=True).data

    @extend_schema_field(RecommendationSerializer(allow_null=True))
    def get_recommendation(self, app):
        user = _user(self.context)
        if not app.recommendation or user is None or not queries.sees_recommendation(user):
            return None
        return RecommendationSerializer(
            {
                "recommendation": app.recommendation,
                "rationale": app.recommendation_rationale,
                "recommended_by": app.recommended_by,
                "recommended_at": app.recommended_at,
            }
        ).data

    @extend_schema_field(DecisionSerializer(allow_null=True))
    def get_decision(self, app):
        try:
            decision = app.decision
        except Decision.DoesNotExist:
            return None
        return DecisionSerializer(decision).data


class EligibilityAnswersSerializer(serializers.Serializer):
    """The firm's answers to the five eligibility criteria, by criterion."""

    def get_fields(self):
        return {
            c.value: serializers.CharField(
                required=False, allow_blank=True, trim_whitespace=True, help_text=c.label
            )
            for c in Criterion
        }

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(Criterion.values)
            if unknown:
                raise serializers.ValidationError(
                    f"Unknown criteria: {', '.join(sorted(unknown))}. "
                    f"Use {', '.join(Criterion.values)}."
                )
        return super().to_internal_value(data)


class ApplicationUpdateSerializer(RejectUnknownFields, serializers.ModelSerializer):
    """The firm's content of a case, checked for types before the service."""

    relief_requested = serializers.MultipleChoiceField(choices=Relief.choices, required=False)
    cohort = serializers.PrimaryKeyRelatedField(
        queryset=Cohort.objects.all(), required=False, allow_null=True
    )
    nodes = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        queryset=Node.objects.none(),
        help_text="Nodes of the firm's server station to be tested.",
    )
    eligibility = EligibilityAnswersSerializer(required=False)

    class Meta:
        model = Application
        fields = [*CONTENT_FIELDS, "nodes", "eligibility"]
        extra_kwargs = {"title": {"required": False}}

    def get_fields(self):
        fields = super().get_fields()
        user = _user(self.context)
        if user is not None:
            fields["nodes"].child_relation.queryset = queries.nodes_for(user)
        return fields

    def validate(self, data):
        start = data.get("test_start", getattr(self.instance, "test_start", None))
        end = data.get("test_end", getattr(self.instance, "test_end", None))
        if start and end and end < start:
            raise serializers.ValidationError({"test_end": "The test must end after it starts."})
        return data

    def service_kwargs(self):
        """``fields``, ``answers`` and ``nodes`` for the content services."""
        data = dict(self.validated_data)
        answers = data.pop("eligibility", None)
        nodes = data.pop("nodes", None)
        if "relief_requested" in data:
            chosen = set(data["relief_requested"])
            data["relief_requested"] = [value for value in Relief.values if value in chosen]
        return {"fields": data, "answers": answers, "nodes": nodes}


class ApplicationCreateSerializer(ApplicationUpdateSerializer):
    project = serializers.PrimaryKeyRelatedField(queryset=Project.objects.none())

    class Meta(ApplicationUpdateSerializer.Meta):
        fields = ["project", *ApplicationUpdateSerializer.Meta.fields]

    def get_fields(self):
        fields = super().get_fields()
        user = _user(self.context)
        if user is not None:
            fields["project"].queryset = queries.projects_for(user)
        return fields

    def service_kwargs(self):
        kwargs = super().service_kwargs()
        kwargs["project"] = kwargs["fields"].pop("project")
        return kwargs


# ---- Lifecycle actions -------------------------------------------------------


class ActionFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField(
        help_text="string, text, choice, multiple_choice, boolean, integer, decimal, date, "
        "datetime, email, object or list."
    )
    required = serializers.BooleanField()
    help = serializers.CharField()
    choices = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="Each {value, label}."
    )
    initial = serializers.JSONField(required=False)
    item_fields = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="For a list: the fields of each item.",
    )


class ActionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    fields = ActionFieldSerializer(many=True)


# ---- The case's objects ------------------------------------------------------


class RfiSerializer(serializers.ModelSerializer):
    application_reference = serializers.CharField(source="application.reference", read_only=True)
    raised_by = PersonSerializer(read_only=True)
    answered_by = PersonSerializer(read_only=True, allow_null=True)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = RequestForInformation
        fields = [
            "id",
            "application",
            "application_reference",
            "question",
            "due_date",
            "raised_by",
            "raised_at",
            "answer",
            "answered_by",
            "answered_at",
            "is_open",
        ]
        read_only_fields = fields


class DocumentSerializer(serializers.ModelSerializer):
    application_reference = serializers.CharField(source="application.reference", read_only=True)
    uploaded_by = PersonSerializer(read_only=True)

    class Meta:
        model = Document
        fields = [
            "id",
            "application",
            "application_reference",
            "kind",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
        ]
        read_only_fields = fields


class DocumentUploadSerializer(RejectUnknownFields, serializers.Serializer):
    application = serializers.PrimaryKeyRelatedField(queryset=Application.objects.none())
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    file = serializers.FileField(allow_empty_file=True)

    def get_fields(self):
        fields = super().get_fields()
        user = _user(self.context)
        if user is not None:
            fields["application"].queryset = queries.applications_for(user)
        return fields


class ConditionSerializer(serializers.ModelSerializer):
    application_reference = serializers.CharField(source="application.reference", read_only=True)
    status_set_by = PersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Condition
        fields = [
            "id",
            "application",
            "application_reference",
            "decision",
            "text",
            "due_date",
            "status",
            "status_note",
            "status_set_by",
            "status_set_at",
        ]
        read_only_fields = fields


class ConditionStatusSerializer(RejectUnknownFields, serializers.Serializer):
    status = serializers.ChoiceField(choices=ConditionStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class FirmReportSerializer(serializers.ModelSerializer):
    application_reference = serializers.CharField(source="application.reference", read_only=True)
    submitted_by = PersonSerializer(read_only=True)

    class Meta:
        model = FirmReport
        fields = [
            "id",
            "application",
            "application_reference",
            "kind",
            "title",
            "body",
            "period_start",
            "period_end",
            "occurred_at",
            "submitted_by",
            "submitted_at",
        ]
        read_only_fields = fields


# ---- Firms and the physical tier -------------------------------------------


class FirmSerializer(serializers.ModelSerializer):
    class Meta:
        model = Firm
        fields = ["id", "name", "legal_name", "registration_number", "contact_email", "created_at"]
        read_only_fields = fields


class ZoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Zone
        fields = ["id", "name", "kind", "policies"]
        read_only_fields = fields


class FirmOwnedSerializer(RejectUnknownFields, serializers.ModelSerializer):
    """A firm-owned record. ``firm`` is needed on creation only when the caller
    belongs to more than one firm; it cannot change afterwards."""

    firm = serializers.PrimaryKeyRelatedField(
        queryset=Firm.objects.none(),
        required=False,
        help_text="The owning firm; defaults to the caller's firm.",
    )
    firm_name = serializers.CharField(source="firm.name", read_only=True)

    def get_fields(self):
        fields = super().get_fields()
        user = _user(self.context)
        if user is not None:
            fields["firm"].queryset = queries.firms_for(user)
        if self.instance is not None:
            fields["firm"].read_only = True
        return fields

    def service_fields(self):
        data = dict(self.validated_data)
        data.pop("firm", None)
        return data

    class Meta:
        # Uniqueness within a firm is checked by the service, which knows the firm.
        validators = []


class ProjectSerializer(FirmOwnedSerializer):
    class Meta(FirmOwnedSerializer.Meta):
        model = Project
        fields = ["id", "firm", "firm_name", "name", "category", "description", "created_at"]
        read_only_fields = ["id", "created_at"]


class NodeSerializer(FirmOwnedSerializer):
    change_reason = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Why the endpoint changes: shown to the case officer when a case in "
        "review uses the node and the change needs their approval.",
    )

    def service_fields(self):
        data = super().service_fields()
        data.pop("change_reason", None)
        return data

    class Meta(FirmOwnedSerializer.Meta):
        model = Node
        fields = [
            "id",
            "firm",
            "firm_name",
            "label",
            "endpoint_url",
            "location",
            "operator",
            "created_at",
            "change_reason",
        ]
        read_only_fields = ["id", "created_at"]


class PersonnelSerializer(FirmOwnedSerializer):
    class Meta(FirmOwnedSerializer.Meta):
        model = Personnel
        fields = ["id", "firm", "firm_name", "name", "role", "on_site"]
        read_only_fields = ["id"]


class ZoneRegistrationSerializer(FirmOwnedSerializer):
    zone_name = serializers.CharField(source="zone.name", read_only=True)

    class Meta(FirmOwnedSerializer.Meta):
        model = ZoneRegistration
        fields = [
            "id",
            "firm",
            "firm_name",
            "zone",
            "zone_name",
            "registered_address",
            "registration_number",
            "registered_on",
        ]
        read_only_fields = ["id"]


class MembershipSerializer(serializers.ModelSerializer):
    firm_name = serializers.CharField(source="firm.name", read_only=True)
    user = PersonSerializer(read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = FirmMembership
        fields = [
            "id",
            "firm",
            "firm_name",
            "user",
            "email",
            "role",
            "is_active",
            "created_at",
            "removed_at",
        ]
        read_only_fields = fields


class InviteMemberSerializer(RejectUnknownFields, serializers.Serializer):
    firm = serializers.PrimaryKeyRelatedField(
        queryset=Firm.objects.none(),
        required=False,
        help_text="The firm to join; defaults to the caller's firm.",
    )
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    role = serializers.ChoiceField(
        choices=MembershipRole.choices, required=False, default=MembershipRole.MEMBER
    )

    def get_fields(self):
        fields = super().get_fields()
        user = _user(self.context)
        if user is not None:
            fields["firm"].queryset = queries.firms_for(user)
        return fields


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    otp_token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        help_text=(
            "The current code of the account's authenticator app (TOTP). Required for case "
            "officers, approvers, auditors and staff, and for any account that has set up "
            "two-factor authentication."
        ),
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
