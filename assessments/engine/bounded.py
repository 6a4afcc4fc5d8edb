"""Bounded JSON decoding: size and nesting depth checked before a recursive decoder runs.

Every JSON input from a user or a node (API bodies, form fields, uploaded traces, report
files, node answers) is decoded through ``loads`` (or checked with ``check_depth`` before
another decoder sees it). The decoders of ``json`` and ``msgspec`` recurse once per level
of nesting, so a small body of 100,000 nested arrays costs a deep C stack; the depth scan
refuses it in linear time, without recursion, before any object is built.

``check_depth`` is a linear scan: string literals (with their escapes) are cut out by one
regular expression, the remaining brackets kept by ``bytes.translate``, and the running
depth summed by ``itertools.accumulate``, all in C; only a refusal walks the text again in
Python, to name the position. Malformed text is not judged here: the decoder refuses it
afterwards with its own message. Nothing here imports Django.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted (far above any legitimate input)."""

_OPEN = b"[{"
_CLOSE = b"]}"
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_TOKEN = re.compile(rb'[\[\]{}"]')
# Opening brackets become 1 and closing ones 255 (-1 as a signed byte); the rest is deleted.
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[{]}")


class BoundExceeded(ValueError):
    """The input is larger or deeper than its bound; the message names the bound."""


class TooDeeplyNested(BoundExceeded):
    """Arrays and objects are nested deeper than ``max_depth``; ``position`` is the offset
    (in the text as given, characters for ``str``, bytes for ``bytes``) of the opening
    bracket that crosses the bound, or None when the decoder itself gave up."""

    def __init__(self, max_depth: int, position: int | None = None):
        self.max_depth = max_depth
        self.position = position
        where = f" (at position {position})" if position is not None else ""
        super().__init__(f"the JSON is nested deeper than the limit of {max_depth} levels{where}")


class TooLarge(BoundExceeded):
    """The input is longer than ``max_bytes``."""

    def __init__(self, max_bytes: int, size: int, unit: str = "bytes"):
        self.max_bytes = max_bytes
        self.size = size
        super().__init__(f"the JSON is larger than the limit of {max_bytes:,} {unit}")


def _as_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8", "surrogatepass")
    return bytes(data)


def _crossing(text: bytes, max_depth: int) -> int:
    """The offset of the opening bracket that crosses ``max_depth`` (only on a refusal)."""
    depth, position = 0, 0
    while True:
        match = _TOKEN.search(text, position)
        if match is None:
            return len(text)
        char = match.group()
        if char == b'"':
            string = _STRING.match(text, match.start())
            if string is None:
                return len(text)
            position = string.end()
            continue
        if char in _OPEN:
            depth += 1
            if depth > max_depth:
                return match.start()
        else:
            depth -= 1
        position = match.end()


def check_depth(data: bytes | bytearray | memoryview | str, max_depth: int = MAX_DEPTH) -> None:
    """Raise ``TooDeeplyNested`` when arrays and objects in ``data`` nest deeper than
    ``max_depth``; brackets inside string literals do not count. Linear time, no recursion.
    """
    text = _as_bytes(data)
    if text.count(b"[") + text.count(b"{") <= max_depth:
        return
    bare = _STRING.sub(b"", text) if b'"' in text else text
    cut = bare.find(b'"')
    if cut >= 0:  # an unterminated string: the decoder stops there, so does the scan
        bare = bare[:cut]
    steps = bare.translate(_STEPS, _NOT_BRACKETS)
    if not steps or max(accumulate(memoryview(steps).cast("b"))) <= max_depth:
        return
    position = _crossing(text, max_depth)
    if isinstance(data, str):
        position = len(text[:position].decode("utf-8", "surrogatepass"))
    raise TooDeeplyNested(max_depth, position)


def loads(
    data: bytes | bytearray | memoryview | str,
    max_depth: int = MAX_DEPTH,
    max_bytes: int | None = None,
    **options: Any,
) -> Any:
    """``json.loads`` of ``data`` once its size (``max_bytes``: bytes, or characters for a
    ``str``) and nesting depth are checked. Raises ``TooLarge`` or ``TooDeeplyNested``
    (both ``BoundExceeded``, a ``ValueError``), or the decoder's own ``ValueError``
    (``json.JSONDecodeError``, ``UnicodeDecodeError``) for malformed text; never
    ``RecursionError``. ``options`` go to ``json.loads`` (``parse_constant``, say)."""
    if max_bytes is not None and len(data) > max_bytes:
        raise TooLarge(max_bytes, len(data), "characters" if isinstance(data, str) else "bytes")
    check_depth(data, max_depth)
    if isinstance(data, memoryview | bytearray):
        data = bytes(data)
    try:
        return json.loads(data, **options)
    except RecursionError:
        # Only reachable when the caller's bound is above what the stack allows.
        raise TooDeeplyNested(max_depth) from None
