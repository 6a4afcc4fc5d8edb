from .context import current_request_id, reset_request_id, set_request_id


class RequestIdMiddleware:
    """Gives every request an id, carried into its audit events and the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        token = set_request_id(incoming[:64] if incoming.isalnum() else None)
        try:
            response = self.get_response(request)
        finally:
            request_id = current_request_id()
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response
