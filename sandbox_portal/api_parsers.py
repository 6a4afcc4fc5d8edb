"""The API's JSON parser: the body's size and nesting are bounded before it is decoded.

DRF's own parser reads the whole body (``DATA_UPLOAD_MAX_MEMORY_SIZE`` is not applied to a
parser's stream) and hands it to ``json``, whose decoder recurses once per level of
nesting. This one reads at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (413 beyond) and
decodes through ``assessments.engine.bounded`` (400 naming the depth limit beyond
``bounded.MAX_DEPTH``), so no body reaches a recursive decoder unchecked. Form and
multipart bodies go through Django's parsers, which decode no JSON.
"""

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json as drf_json

from assessments.engine import bounded

DEFAULT_MAX_BYTES = 2_621_440  # Django's default DATA_UPLOAD_MAX_MEMORY_SIZE


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def max_body_bytes():
    """The largest JSON body accepted: ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django's default
    when the setting is None)."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or DEFAULT_MAX_BYTES


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with the body's size and nesting depth checked first."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        limit = max_body_bytes()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than the limit of {limit:,} bytes.")
        parse_constant = drf_json.strict_constant if self.strict else None
        try:
            return bounded.loads(raw.decode(encoding), parse_constant=parse_constant)
        except bounded.TooDeeplyNested as exc:
            raise ParseError(f"JSON parse error - {exc}.") from None
        except ValueError as exc:  # malformed JSON, or text not in the request's charset
            raise ParseError(f"JSON parse error - {exc}") from None
