"""The case collection, its lifecycle actions and the token login.

Views parse, scope through ``queries.py``, call a service and render; every
refusal a service raises becomes a response in ``sandbox_portal.api``.
"""

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from sandbox_portal.accounts import two_factor
from sandbox_portal.api import invalid

from .. import queries
from ..actions import ACTIONS, available_actions, check_allowed, get_action, take_action
from ..filters import ApplicationFilter
from ..models import Application
from ..services import content as content_services
from .action_io import describe_action, form_data
from .common import ScopedViewSet
from .serializers import (
    ActionSerializer,
    ApplicationCreateSerializer,
    ApplicationDetailSerializer,
    ApplicationListSerializer,
    ApplicationUpdateSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)

ACTION_PARAMETER = OpenApiParameter(
    "action_name",
    str,
    OpenApiParameter.PATH,
    enum=[a.name for a in ACTIONS],
    description="The lifecycle action, as listed by the case's actions/ endpoint.",
)


@extend_schema_view(
    list=extend_schema(summary="The cases the caller may see"),
    retrieve=extend_schema(summary="A whole case"),
)
class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Sandbox applications (cases). Nothing is ever deleted."""

    scope = staticmethod(queries.application_list)
    model = Application
    filterset_class = ApplicationFilter
    search_fields = ["reference", "title", "firm__name", "project__name"]
    ordering_fields = ["created_at", "updated_at", "submitted_at", "reference", "state", "title"]
    ordering = ["-created_at"]
    serializer_classes = {
        "list": ApplicationListSerializer,
        "create": ApplicationCreateSerializer,
        "partial_update": ApplicationUpdateSerializer,
        "list_actions": ActionSerializer,
    }

    def get_serializer_class(self):
        return self.serializer_classes.get(self.action, ApplicationDetailSerializer)

    def refine(self, queryset):
        if self.action == "list":
            return queryset
        return queryset.select_related(
            "created_by", "recommended_by", "decision__decided_by"
        ).prefetch_related(
            "nodes",
            "eligibility__assessed_by",
            "tier_statuses__set_by",
            "documents",
            "decision__conditions",
        )

    def _detail(self, pk):
        app = get_object_or_404(self.get_queryset(), pk=pk)
        return ApplicationDetailSerializer(app, context=self.get_serializer_context()).data

    @extend_schema(
        summary="Open a draft application (firm users)",
        request=ApplicationCreateSerializer,
        responses={201: ApplicationDetailSerializer},
    )
    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        app = content_services.create_application(actor=request.user, **serializer.service_kwargs())
        return Response(self._detail(app.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a draft, or a case while answering an RFI (firm users)",
        request=ApplicationUpdateSerializer,
        responses=ApplicationDetailSerializer,
    )
    def partial_update(self, request, pk=None):
        app = self.get_object()
        serializer = self.get_serializer(app, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        content_services.update_application(app, actor=request.user, **serializer.service_kwargs())
        return Response(self._detail(app.pk))

    @extend_schema(
        summary="The lifecycle actions the caller may take on the case now",
        responses=ActionSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="actions", url_name="actions")
    def list_actions(self, request, pk=None):
        app = self.get_object()
        return Response([describe_action(a, app) for a in available_actions(request.user, app)])

    @extend_schema(
        summary="Take a lifecycle action",
        description=(
            "The payload is the action's fields as its entry in actions/ lists them, "
            "as JSON or form data. 403: the caller's role cannot take it; 409: the case's "
            "state does not allow it; 400: the payload is not valid."
        ),
        parameters=[ACTION_PARAMETER],
        request={"application/json": OpenApiTypes.OBJECT},
        responses=ApplicationDetailSerializer,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"actions/(?P<action_name>[a-z_]+)",
        url_name="take-action",
    )
    def take(self, request, pk=None, action_name=None):
        app = self.get_object()
        lifecycle_action = get_action(action_name)
        if lifecycle_action is None:
            raise NotFound(f"There is no action '{action_name}'.")
        # Role and state are refused before the payload is read (403 / 409, not 400).
        check_allowed(lifecycle_action, app, request.user)
        data = form_data(lifecycle_action, app, request.data)
        take_action(lifecycle_action, app, request.user, data=data, files=request.FILES)
        return Response(self._detail(app.pk))


class LoginThrottle(SimpleRateThrottle):
    """Slows password guessing: a few token requests a minute from one address."""

    scope = "login"
    rate = "30/min"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _second_factor_refusal(user, otp_token):
    """None when the account needs no code or gave a good one; else the 400 (or 429 while
    wrong codes are throttled) naming ``otp_token``."""
    if not two_factor.requires_two_factor(user):
        return None
    if two_factor.confirmed_device(user) is None:
        message = (
            "This account needs two-factor authentication: log in to the portal once to set "
            "up an authenticator app, then send its code as otp_token."
        )
        return invalid({"otp_token": [message]})
    if not otp_token:
        return invalid({"otp_token": ["This account needs the code of its authenticator app."]})
    outcome = two_factor.verify(user, otp_token)
    if outcome.ok:
        return None
    response = invalid({"otp_token": [outcome.error]})
    if outcome.throttled:
        response.status_code = status.HTTP_429_TOO_MANY_REQUESTS
    return response


class TokenView(APIView):
    """Exchange a username and password (and, for accounts with two-factor
    authentication, the authenticator's code as ``otp_token``) for an API token.

    Successful and failed attempts are both audit events.
    """

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]
    serializer_class = TokenRequestSerializer

    @extend_schema(
        summary="Obtain an API token",
        description=(
            "Send `username` and `password`; case officers, approvers, auditors, staff and "
            "any account with two-factor authentication set up also send `otp_token`, the "
            "current code of their authenticator app (a missing or wrong code answers 400 "
            "naming `otp_token`). Requests with the token are trusted without a further code."
        ),
        request=TokenRequestSerializer,
        responses={200: TokenSerializer},
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None:
            return Response(
                {"detail": "Unable to log in with the username and password given."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        refusal = _second_factor_refusal(user, serializer.validated_data.get("otp_token", ""))
        if refusal is not None:
            return refusal
        token, _ = Token.objects.get_or_create(user=user)
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        return Response({"token": token.key})
