"""API authentication that never lets a session skip its second factor.

Token requests are trusted as they are: a token is issued only after the second factor
(``POST /api/v1/auth/token/`` asks for ``otp_token``) and is revoked whenever the
password, role or active state of its user changes (``signals.py``). A session is
trusted only once it has given its second factor, whatever else the request carries:
a header the token authentication does not understand (``Bearer``, ``Basic``, an empty
value) must not turn an unverified session into an authenticated API caller.
"""

from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.models import Token

from . import two_factor

# A token key is 40 hex characters; anything longer is not looked up.
_MAX_KEY_LENGTH = 40


class TwoFactorSessionAuthentication(SessionAuthentication):
    """Session authentication that does not authenticate a session whose user owes a
    second factor: the request goes on as anonymous, so what needs a login refuses it
    and what is public (the schema, its documentation) stays open. The two-factor
    middleware answers such API requests first, with 403 and ``NEEDS_SECOND_FACTOR``."""

    def authenticate(self, request):
        user = getattr(request._request, "user", None)
        if user is not None and two_factor.owes_code(request._request):
            return None
        return super().authenticate(request)


class TwoFactorSessionScheme(SessionScheme):
    """The schema describes it as the cookie session it is."""

    target_class = "sandbox_portal.accounts.authentication.TwoFactorSessionAuthentication"


def carries_valid_token(request):
    """Whether ``request`` (a Django request) carries ``Authorization: Token <key>`` with
    the key of an active user's token, parsed as the API's token authentication parses
    it."""
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0].lower() != "token" or len(parts[1]) > _MAX_KEY_LENGTH:
        return False
    return Token.objects.filter(key=parts[1], user__is_active=True).exists()
