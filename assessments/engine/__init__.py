"""The technical test engine: black-box tests of a chain through its public JSON-RPC interface.

It knows nothing of Django or of the portal. A caller builds a ``Target`` (the endpoints
to test, the allow-list of the case's registered nodes, and for suites that send
transactions a faucet key), picks a suite and its parameters, and gets a ``SuiteResult``
(metrics, named checks with evidence, chart series, log lines)::

    from assessments.engine import Target, run_suite
    result = run_suite("block", Target(endpoints=[url], allowed=[url]), {"blocks": 50})

Every outgoing request passes ``guard.Guard`` first; see ``guard`` and ``rpc``.
"""

# First: keeps the recursion limit that protects the JSON decoders (see ``recursion``).
from . import recursion  # noqa: F401
from .errors import (
    EndpointRefused,
    EngineError,
    InvalidParameters,
    NodeUnreachable,
    NonConformingNode,
    RpcError,
    RunCancelled,
)
from .results import Check, Progress, SuiteResult, Target


def run_suite(name, target, parameters=None, progress=None):
    """Run the suite called ``name`` (see ``suites.SUITES``)."""
    from .suites import SUITES

    try:
        suite = SUITES[name]
    except KeyError:
        raise InvalidParameters(f"unknown suite {name!r}; known: {sorted(SUITES)}") from None
    return suite(target, parameters, progress)


__all__ = [
    "Check",
    "EndpointRefused",
    "EngineError",
    "InvalidParameters",
    "NodeUnreachable",
    "NonConformingNode",
    "Progress",
    "RpcError",
    "RunCancelled",
    "SuiteResult",
    "Target",
    "run_suite",
]
