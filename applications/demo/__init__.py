"""The demo: people, firms, the physical tier and cases at several stages.

Everything that has a service goes through it, acting as the demo user who
would do it, so the audit trail tells the demo's story like any other. Set-up
that has no service (accounts, zones, firms, a firm's first admin, the cohort)
is recorded in the audit trail as done by the portal's staff user.

Loading is idempotent: each object is looked up by its natural key and only
what is missing is created; a case that exists is never moved again.
"""

from .data import DEMO_PASSWORD, LOGINS
from .loader import load

__all__ = ["DEMO_PASSWORD", "LOGINS", "load"]
