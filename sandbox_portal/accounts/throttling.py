"""Login throttling with django-axes: failed logins counted per username and address.

The web login page and the API token endpoint both authenticate through Django's
``authenticate(request, ...)``, so both are counted and both are locked out.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import ErrorDict
from django.http import JsonResponse
from django.shortcuts import render
from ipware import get_client_ip

LOCKED_OUT = (
    "Too many failed logins for this username from your address. "
    "Wait a few minutes before trying again, or reset your password."
)


def client_ip(request):
    """The address failed logins are counted by (``AXES_CLIENT_IP_CALLABLE``).

    ``REMOTE_ADDR``, unless ``TRUSTED_PROXY_COUNT`` reverse proxies stand in front: each
    appends the address it saw to ``X-Forwarded-For``, so the client is the entry that
    many places from the right, and anything further left (which the client may have
    written itself) is ignored. A request without the header (one that did not come
    through the proxies) counts by ``REMOTE_ADDR``.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        address, _routable = get_client_ip(
            request,
            proxy_order="left-most",
            # django-ipware counts the proxies listed in the header besides the client;
            # the nearest proxy is REMOTE_ADDR and is not listed.
            proxy_count=proxies - 1,
            request_header_order=("HTTP_X_FORWARDED_FOR",),
            strict=False,
        )
        if address:
            return address
    return request.META.get("REMOTE_ADDR")


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked-out username and address before any password is checked.

    A login without a request (the shell, a management command) has no address to
    throttle and is left to the other backends.
    """

    def authenticate(self, request=None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    """429: JSON for the API, the login page with the lockout message for people."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": LOCKED_OUT}, status=429)
    username = (credentials or {}).get("username") or ""
    form = AuthenticationForm(request, initial={"username": username})
    # Unbound, so the password is not checked again (which would count one more failure).
    form._errors = ErrorDict({NON_FIELD_ERRORS: form.error_class([LOCKED_OUT], "nonfield")})
    return render(
        request,
        "registration/login.html",
        {"form": form, "next": request.POST.get("next", ""), "locked_out": True},
        status=429,
    )
