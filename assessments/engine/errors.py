"""Errors the engine raises. Every one names the endpoint it concerns."""


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
        super().__init__(f"{method} on {endpoint} failed: [{code}] {message}")


class InvalidParameters(EngineError, ValueError):
    """A suite was given parameters it does not know or cannot use."""


class RunCancelled(EngineError):
    """Raised by a progress callback to stop a suite; the suite cleans up and re-raises it."""
