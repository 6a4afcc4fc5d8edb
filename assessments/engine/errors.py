"""Errors the engine raises. Every one names the endpoint it concerns."""

import errno
import socket
import ssl


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""


class EndpointRefused(EngineError):
    """The guard refused a target before any connection was made."""

    def __init__(self, endpoint: str, reason: str):
        self.endpoint = endpoint
        self.reason = reason
        super().__init__(f"endpoint {endpoint!r} refused: {reason}")


class NodeUnreachable(EngineError):
    """No answer from the node: connection refused, timed out, name not resolved."""

    def __init__(self, endpoint: str, reason: str):
        self.endpoint = endpoint
        self.reason = reason
        super().__init__(f"node {endpoint} unreachable: {reason}")


class NonConformingNode(EngineError):
    """The node answered, but not as the JSON-RPC 2.0 and Ethereum specifications require."""

    def __init__(self, endpoint: str, reason: str):
        self.endpoint = endpoint
        self.reason = reason
        super().__init__(f"node {endpoint} does not conform: {reason}")


class RpcError(EngineError):
    """The node answered a call with a JSON-RPC error object."""

    def __init__(self, endpoint: str, method: str, code: int, message: str, data=None):
        self.endpoint = endpoint
        self.method = method
        self.code = code
        self.message = message
        self.data = data
        # The node's own JSON-RPC error text (the evidence of a refusal), bounded.
        super().__init__(f"{method} on {endpoint} failed: [{code}] {str(message)[:200]}")


class InvalidParameters(EngineError, ValueError):
    """A suite was given parameters it does not know or cannot use."""


class RunCancelled(EngineError):
    """Raised by a progress callback to stop a suite; the suite cleans up and re-raises it."""


# --- describing what a node sent, without repeating it -----------------------------------
# Error messages reach the firm that registered the endpoint. What an endpoint answered is
# never repeated in them (an endpoint may be some other service, whose answer is not the
# firm's to read): they name a status, a size, a JSON type or a class of failure.


def answer_size(body: bytes | str) -> str:
    """The size of an answer, e.g. "412 bytes"."""
    size = len(body.encode("utf-8", "replace")) if isinstance(body, str) else len(body)
    return f"{size} bytes"


def value_kind(value: object) -> str:
    """The JSON type of a value a node sent, e.g. "a string of 12 characters"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    if isinstance(value, list | tuple):
        return f"an array of {len(value)} items"
    if isinstance(value, dict):
        return f"an object with {len(value)} members"
    return type(value).__name__


def connection_failure(exc: BaseException) -> str:
    """The class of a failed connection or exchange, never the operating system's text.

    "connection refused", "timed out", "TLS error", "name not resolved", "connection reset",
    "network unreachable", "no valid HTTP answer" or "connection failed": the text of socket
    errors can carry addresses and the bytes a service sent, which are not the firm's.
    """
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    for error in seen:
        names = {cls.__name__ for cls in type(error).__mro__}
        if any("Timeout" in name for name in names) or "timeout" in names:
            return "timed out"
        if isinstance(error, socket.gaierror):
            return "name not resolved"
        if isinstance(error, ssl.SSLCertVerificationError):
            return "TLS error: the certificate does not verify"
        if isinstance(error, ssl.SSLError) or names & {"SSLError", "CertificateError"}:
            return "TLS error"
        if isinstance(error, ConnectionRefusedError):
            return "connection refused"
        if isinstance(error, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
            return "connection reset"
        if isinstance(error, OSError) and error.errno in UNREACHABLE_ERRNOS:
            return "network unreachable"
    for error in seen:
        names = {cls.__name__ for cls in type(error).__mro__}
        if names & {"RemoteProtocolError", "LocalProtocolError", "ProtocolError"}:
            return "no valid HTTP answer"
        text = str(error).lower()
        for needle, label in FAILURE_TEXTS:
            if needle in text:
                return label
    return "connection failed"


UNREACHABLE_ERRNOS = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL})
FAILURE_TEXTS = (
    ("refused", "connection refused"),
    ("timed out", "timed out"),
    ("name or service not known", "name not resolved"),
    ("nodename nor servname", "name not resolved"),
    ("temporary failure in name resolution", "name not resolved"),
    ("certificate", "TLS error"),
    ("ssl", "TLS error"),
    ("reset", "connection reset"),
    ("unreachable", "network unreachable"),
)
