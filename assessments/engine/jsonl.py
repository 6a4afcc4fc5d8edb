"""Streaming JSON Lines: what the trace and history checkers read uploads with.

A JSON Lines file is read in chunks of ``CHUNK_BYTES`` and never as a whole: memory is
bounded by one chunk (plus the longest line, at most ``MAX_LINE_BYTES``), whatever the
size of the file. Each complete line is decoded with ``msgspec`` into the caller's
``msgspec.Struct`` (all the lines of a chunk in one call; the per-line path is taken only
to name the line of an error).

Every refusal is a ``FormatError`` naming the line it concerns (``error.line``):

- a line that is not JSON, or not an object of the expected shape (a missing field, a
  field of the wrong type);
- an empty line (one record per line, no blank lines);
- a last line without its newline: the file was cut off (truncated) while it was written;
- a file larger than the caller's limit (the line at which the limit was crossed);
- a line longer than ``MAX_LINE_BYTES``;
- a line whose arrays or objects nest too deeply for the decoder (``TOO_DEEP``): the
  decoders stop at Python's recursion limit, which ``recursion`` keeps at its default, and
  that refusal becomes this error rather than a crash.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

import msgspec

from .errors import InvalidParameters

CHUNK_BYTES = 1 << 20
MAX_LINE_BYTES = 1 << 20
TOO_DEEP = "arrays or objects are nested too deeply"

Source = str | os.PathLike | bytes | IO[bytes]


class FormatError(InvalidParameters):
    """The file breaks its format; ``line`` is the 1-based line number at fault."""

    def __init__(self, line: int, reason: str):
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


def open_source(source: Source) -> tuple[IO[bytes], bool, int | None]:
    """A binary stream for ``source`` (a path, bytes, or an open binary file), whether the
    caller must close it, and its size when known."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        return io.BytesIO(data), True, len(data)
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        return open(path, "rb"), True, os.path.getsize(path)  # noqa: SIM115 - closed by caller
    if not hasattr(source, "read"):
        raise InvalidParameters("a trace is a path, bytes or a binary file")
    size = None
    try:
        here = source.tell()
        source.seek(0, os.SEEK_END)
        size = source.tell() - here
        source.seek(here)
    except (AttributeError, OSError, ValueError):
        size = None
    return source, False, size


_MISSING = re.compile(r"Object missing required field `([^`]+)`(?: - at `\$(.*)`)?")
_AT = re.compile(r"^(.*) - at `\$\.?([^`]*)`$")


def describe(exc: Exception) -> str:
    """msgspec's message in the words of the format's documentation."""
    text = str(exc)
    m = _MISSING.match(text)
    if m:
        return f"missing field {m.group(1)!r}"
    m = _AT.match(text)
    if m:
        what, where = m.group(1), m.group(2)
        what = what.replace("Expected `", "expected ").replace("`, got `", ", got ")
        what = what.rstrip("`")
        return f"field {where!r}: {what}" if where else what
    if text.startswith("Expected `"):
        return text.replace("Expected `", "expected ").replace("`, got `", ", got ").rstrip("`")
    if isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError):
        return f"not valid JSON ({text.removeprefix('JSON is malformed: ')})"
    return text


def header_error(line: bytes, exc: Exception) -> FormatError:
    """Why the first line is not a valid header (line 1)."""
    if isinstance(exc, RecursionError):
        return FormatError(1, f"the header: {TOO_DEEP}")
    try:
        obj = msgspec.json.decode(line)
    except (msgspec.DecodeError, RecursionError):
        obj = None
    if isinstance(obj, dict) and obj.get("type") != "header":
        return FormatError(
            1, f'the first line must be the header ("type": "header"), not {obj.get("type")!r}'
        )
    return FormatError(1, f"the header: {describe(exc)}")


def decode_header(decoder: msgspec.json.Decoder, line: bytes, fmt: str) -> Any:
    """The first line decoded by ``decoder``, checked to be a header of format ``fmt``."""
    try:
        header = decoder.decode(line)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise header_error(line, exc) from None
    if header.type != "header":
        raise FormatError(
            1, f'the first line must be the header ("type": "header"), not {header.type!r}'
        )
    if header.format != fmt:
        raise FormatError(1, f"format {header.format!r} is not {fmt!r}")
    return header


class LineReader:
    """Decodes a JSON Lines stream into ``struct`` records, a chunk at a time.

    ``header(decoder)`` reads the first line alone (with its own decoder); then
    ``chunks()`` yields ``(first_line_number, records)`` for each chunk of complete lines.
    ``bytes_read`` and ``size`` let the caller report progress. ``explain(obj)``, given a
    line that is JSON but not a valid record, may return a better reason than the missing
    or mistyped field (an unknown record type, say).
    """

    def __init__(
        self,
        source: Source,
        struct: Any,
        *,
        max_bytes: int | None = None,
        chunk_bytes: int = CHUNK_BYTES,
        explain: Callable[[Any], str | None] | None = None,
    ):
        self.stream, self._owned, self.size = open_source(source)
        self.decoder = msgspec.json.Decoder(struct)
        self.max_bytes = max_bytes
        self.chunk_bytes = chunk_bytes
        self.explain = explain
        self.bytes_read = 0
        self.lines = 0  # complete lines handed out so far
        self._rest = b""
        self._eof = False

    def close(self) -> None:
        if self._owned:
            self.stream.close()

    def __enter__(self) -> LineReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- raw reading ---------------------------------------------------------------

    def _read(self) -> bytes:
        if self._eof:
            return b""
        data = self.stream.read(self.chunk_bytes)
        if not data:
            self._eof = True
            return b""
        limit = self.max_bytes
        if limit is not None and self.bytes_read + len(data) > limit:
            allowed = data[: max(0, limit - self.bytes_read)]
            line = self.lines + self._rest.count(b"\n") + allowed.count(b"\n") + 1
            raise FormatError(
                line, f"the file is larger than the limit of {limit:,} bytes (it is crossed here)"
            )
        self.bytes_read += len(data)
        return data

    def _complete_lines(self) -> bytes | None:
        """The next run of complete lines (ending with a newline), or None at the end."""
        while True:
            data = self._read()
            if not data:
                cut = self._rest.rfind(b"\n")
                if cut >= 0:  # complete lines left over from the header's read
                    block, self._rest = self._rest[: cut + 1], self._rest[cut + 1 :]
                    return block
                if self._rest:
                    raise FormatError(
                        self.lines + 1,
                        "the last line has no newline at its end: the file is truncated "
                        "(cut off while it was written)",
                    )
                return None
            buf = self._rest + data if self._rest else data
            cut = buf.rfind(b"\n")
            if cut < 0:
                if len(buf) > MAX_LINE_BYTES:
                    raise FormatError(
                        self.lines + 1, f"the line is longer than {MAX_LINE_BYTES:,} bytes"
                    )
                self._rest = buf
                continue
            self._rest = buf[cut + 1 :]
            if len(self._rest) > MAX_LINE_BYTES:
                raise FormatError(
                    self.lines + buf.count(b"\n") + 1,
                    f"the line is longer than {MAX_LINE_BYTES:,} bytes",
                )
            return buf[: cut + 1]

    # -- decoding --------------------------------------------------------------------

    def header(self, decode: Callable[[bytes], Any]) -> Any:
        """Decode the first line with ``decode`` (which raises FormatError itself)."""
        while True:
            cut = self._rest.find(b"\n")
            if cut >= 0:
                break
            data = self._read()
            if not data:
                if not self._rest:
                    raise FormatError(1, "the file is empty: the first line must be the header")
                raise FormatError(
                    1,
                    "the header line has no newline at its end: the file is truncated "
                    "(cut off while it was written)",
                )
            self._rest += data
            if len(self._rest) > MAX_LINE_BYTES and self._rest.find(b"\n") < 0:
                raise FormatError(1, f"the line is longer than {MAX_LINE_BYTES:,} bytes")
        line, self._rest = self._rest[:cut], self._rest[cut + 1 :]
        self.lines = 1
        return decode(line)

    def chunks(self) -> Iterator[tuple[int, list]]:
        while True:
            block = self._complete_lines()
            if block is None:
                return
            first = self.lines + 1
            count = block.count(b"\n")
            try:
                records = self.decoder.decode_lines(block)
                if len(records) != count:  # a blank line, skipped by decode_lines
                    raise ValueError
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError):
                records = self._line_by_line(block, first)
            self.lines += count
            yield first, records

    def _line_by_line(self, block: bytes, first: int) -> list:
        decode = self.decoder.decode
        records = []
        for offset, line in enumerate(block.split(b"\n")[:-1]):
            if not line.strip():
                raise FormatError(first + offset, "the line is empty (one record per line)")
            try:
                records.append(decode(line))
            except msgspec.ValidationError as exc:  # JSON, but not a valid record
                reason = None
                if self.explain is not None:
                    try:
                        reason = self.explain(msgspec.json.decode(line))
                    except (msgspec.DecodeError, RecursionError):
                        reason = None
                raise FormatError(first + offset, reason or describe(exc)) from None
            except msgspec.DecodeError as exc:
                raise FormatError(first + offset, describe(exc)) from None
            except RecursionError:
                raise FormatError(first + offset, TOO_DEEP) from None
        return records
