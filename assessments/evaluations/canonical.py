"""The canonical JSON of an issued evaluation: one byte sequence for one evaluation.

Keys sorted, separators ``(",", ":")``, UTF-8 without ASCII escaping, floats rounded to
``DECIMALS`` places (so a float computed twice hashes the same), ``Decimal`` as a number,
datetimes as ISO 8601 in UTC with a trailing ``Z``. ``dumps`` of the same payload always
gives the same bytes, and so the same SHA-256.
"""

import datetime
import decimal
import hashlib
import json
import math

DECIMALS = 6


def normalise(value):
    """The payload with every value in its canonical JSON-ready form."""
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float | decimal.Decimal):
        number = float(value)
        if not math.isfinite(number):
            return None
        number = round(number, DECIMALS)
        if number == int(number) and abs(number) < 2**53:
            return int(number)
        return number
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        value = value.astimezone(datetime.UTC)
        return value.isoformat(timespec="microseconds").replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def dumps(payload) -> str:
    """The canonical JSON text of ``payload``."""
    return json.dumps(normalise(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    """SHA-256 (hex) of the UTF-8 bytes of a canonical JSON text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
