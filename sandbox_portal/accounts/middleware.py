"""Holds back a signed-in user who owes a second factor until they have given it.

Installed after django-otp's ``OTPMiddleware``, which tells whether the session was
verified. Pages answer with a redirect to the two-factor page (coming back afterwards);
API requests of such a session answer 403 with a message, whatever headers they carry,
unless they carry a valid API token (``Authorization: Token <key>``): tokens are issued
only after the second factor (``POST /api/v1/auth/token/`` asks for ``otp_token``). The
API's session authentication never authenticates such a session either
(``authentication.TwoFactorSessionAuthentication``), so an API route this middleware lets
through is still closed to it.
"""

from functools import cache

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from . import two_factor
from .authentication import carries_valid_token
from .two_factor import NEEDS_SECOND_FACTOR
from .views import two_factor_url


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
        if not two_factor.owes_code(request):
            return None
        if request.path.startswith("/api/"):
            # Only a token the API will accept stands in for the second factor: any other
            # Authorization header would leave the API to authenticate by this session.
            if carries_valid_token(request):
                return None
            return JsonResponse({"detail": NEEDS_SECOND_FACTOR}, status=403)
        target = two_factor_url(request.get_full_path())
        if request.headers.get("HX-Request"):
            # htmx swaps fragments: ask it to load the whole two-factor page instead.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
