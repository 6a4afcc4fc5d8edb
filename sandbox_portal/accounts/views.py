"""The login page and the two-factor page that follows it.

The views parse and render; ``two_factor`` owns the device, the checks and the audit.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import two_factor
from .forms import OTPTokenForm


def two_factor_url(next_url):
    """The two-factor page, coming back to ``next_url`` once the code is confirmed."""
    return f"{reverse('two-factor')}?{urlencode({'next': next_url})}"


class LoginView(auth_views.LoginView):
    """Django's login page; a user who needs a second factor goes on to give it."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        if two_factor.requires_two_factor(self.request.user):
            two_factor.note_enrolled(self.request)
            if not two_factor.is_verified(self.request):
                return redirect(two_factor_url(self.get_success_url()))
        return response


def _next_url(request):
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_page(request):
    """Enrol an authenticator app (no confirmed device yet) or give its current code."""
    user = request.user
    next_url = _next_url(request)
    enrolling = two_factor.confirmed_device(user) is None
    form = OTPTokenForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        if form.is_valid():
            token = form.cleaned_data["otp_token"]
            if enrolling:
                outcome = two_factor.confirm_enrolment(user, token)
            else:
                outcome = two_factor.verify(user, token)
            if outcome.ok:
                two_factor.mark_verified(request, outcome.device)
                two_factor.note_enrolled(request)
                if enrolling:
                    messages.success(request, "Two-factor authentication is set up.")
                return redirect(next_url)
            form.add_error("otp_token", outcome.error)
            status = 429 if outcome.throttled else 400
        else:
            status = 400
    context = {
        "form": form,
        "next": next_url,
        "enrolling": enrolling,
        "required": two_factor.role_requires_two_factor(user),
        "verified": two_factor.is_verified(request),
    }
    if enrolling:
        device = two_factor.pending_device(user)
        context.update(
            secret=two_factor.secret_base32(device),
            qr_svg=two_factor.qr_svg(device),
            uri=two_factor.provisioning_uri(device),
        )
    return render(request, "registration/two_factor.html", context, status=status)
