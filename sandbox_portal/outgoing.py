"""Which endpoints the portal may send requests to: the one place the setting is read.

Every target the portal builds (test runs, monitoring probes, demo evidence) passes
``allowed_networks()`` to the engine's guard, and every endpoint a firm registers is checked
with ``endpoint_refusal`` first, so an endpoint on the portal's own host or network is
refused when it is registered and again before every connection.
"""

from __future__ import annotations

from django.conf import settings

from assessments.engine.guard import registration_refusal


def allowed_networks() -> tuple[str, ...]:
    """The non-public networks requests may go to (``OUTGOING_ALLOWED_NETWORKS``)."""
    return tuple(getattr(settings, "OUTGOING_ALLOWED_NETWORKS", ()) or ())


def endpoint_refusal(url: str) -> str | None:
    """Why ``url`` may never be a node endpoint, or None; makes no connection.

    A bad scheme, credentials in the URL, a literal address outside the public internet and
    the permitted networks, or a host name resolving (even partly) to one. A name that does
    not resolve is not refused here: the guard checks it again before every request.
    """
    return registration_refusal(url, allowed_networks())
