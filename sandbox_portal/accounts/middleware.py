"""Holds back a signed-in user who owes a second factor until they have given it.

Installed after django-otp's ``OTPMiddleware``, which tells whether the session was
verified. Pages answer with a redirect to the two-factor page (coming back afterwards);
session-authenticated API requests answer 403 with a message. A request carrying an
``Authorization`` header is left to the API's token authentication: tokens are issued
only after the second factor (``POST /api/v1/auth/token/`` asks for ``otp_token``).
"""

from functools import cache

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from . import two_factor
from .views import two_factor_url

NEEDS_SECOND_FACTOR = (
    "Two-factor verification required: confirm the code from your authenticator app at "
    "/accounts/two-factor/, or use an API token (POST /api/v1/auth/token/ with otp_token)."
)


@cache
def _exempt_paths():
    """Paths open to a user who has not given the second factor yet: logging in and out,
    the two-factor page itself, the health check, the report verification page, the
    API token endpoint, the static files, and what is public anyway (the API's schema
    and its documentation, the password reset pages)."""
    exact = {
        reverse("login"),
        reverse("logout"),
        reverse("healthz"),
        reverse("report-verify"),
        reverse("api:token"),
        reverse("api-schema"),
        reverse("api-docs"),
    }
    prefixes = (
        reverse("two-factor"),
        "/" + settings.STATIC_URL.lstrip("/"),
        reverse("password_reset"),
    )
    return frozenset(exact), prefixes


def is_exempt(path):
    exact, prefixes = _exempt_paths()
    return path in exact or path.startswith(prefixes)


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        return self.get_response(request)

    def _refusal(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or is_exempt(request.path):
            return None
        if request.path.startswith("/api/") and "HTTP_AUTHORIZATION" in request.META:
            return None
        if two_factor.is_verified(request) or not two_factor.must_verify(request):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": NEEDS_SECOND_FACTOR}, status=403)
        target = two_factor_url(request.get_full_path())
        if request.headers.get("HX-Request"):
            # htmx swaps fragments: ask it to load the whole two-factor page instead.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
