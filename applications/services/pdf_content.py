"""Finding active content in a PDF: JavaScript, launch and form actions, embedded files,
rich media and XFA forms.

A PDF reader acts on names (``/JavaScript``, ``/Launch``...) wherever the file's cross
reference table points, so nothing here trusts the file's own structure: every name token
of the whole file is read, and so is the output of every stream that inflates as zlib
(``/FlateDecode``, compressed object streams included, nested compression too). Names are
normalised first, because ``/J#61vaScript`` is ``/JavaScript`` to a reader. Inflating is
bounded: a file whose compressed content expands beyond ``INFLATE_BUDGET``, or nests
compression deeper than ``MAX_NESTING``, is refused rather than accepted uninspected.
"""

import re
import zlib

# What each name means to the person uploading, in the order the message lists them.
ACTIVE_NAMES = {
    b"JavaScript": "JavaScript",
    b"JS": "JavaScript",
    b"Launch": "a launch action",
    b"EmbeddedFile": "embedded files",
    b"EmbeddedFiles": "embedded files",
    b"RichMedia": "rich media",
    b"XFA": "an XFA form",
    b"AA": "automatic actions",
    b"SubmitForm": "a form submission action",
    b"ImportData": "a data import action",
}
# Total bytes inflated from one file's streams before it is refused as uninspectable.
INFLATE_BUDGET = 256 * 1024 * 1024
# How deep compression nested inside compression is followed; deeper is refused.
MAX_NESTING = 4

_STEP = 1024 * 1024
_FIRST_SLICE = 4096
# Each stream tried counts against the budget too, so a file made of millions of tiny
# "streams" is refused in a bounded time instead of tried one by one.
_COST_OF_A_TRY = 2048
# A name: a solidus and the regular characters after it, up to whitespace or a delimiter.
_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# Where a stream's data begins; the zlib header check below keeps tries cheap.
_STREAM = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)?")
# Longer than any spelling of a name above (each character escaped as ``#xx``) and the
# gap after it, so a name cut at a chunk's end is read whole at the start of the next.
_CARRY = 256
# The two-letter keys are only counted with the value that makes them act (a dictionary,
# a string, an object reference), since three bytes like ``/AA`` turn up by chance in
# compressed or image data. Whitespace and comments may sit between key and value; a
# longer gap than ``_MAX_GAP`` counts as a value, never as a way to hide one.
_REFERENCE = tuple(bytes([digit]) for digit in b"0123456789+")
_VALUE_STARTS = {b"AA": (b"<<", *_REFERENCE), b"JS": (b"(", b"<", *_REFERENCE)}
_GAP = re.compile(rb"(?:[\x00\t\n\x0c\r ]+|%[^\r\n]*)*")
_MAX_GAP = 200


class TooMuchToInspect(Exception):
    """The file's compressed streams expand beyond ``INFLATE_BUDGET`` (or are so many
    that trying them would), or nest deeper than ``MAX_NESTING``."""


def _normalise(raw):
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


class _NameScanner:
    """Collects the active names in a byte stream fed in chunks."""

    def __init__(self, found):
        self.found = found
        self.tail = b""

    def feed(self, chunk, final=False):
        buffer = self.tail + bytes(chunk)
        for match in _NAME.finditer(buffer):
            # A name running to the chunk's end may go on in the next one: read it there.
            if match.end() == len(buffer) and not final:
                continue
            name = _normalise(match.group(1))
            if name not in ACTIVE_NAMES:
                continue
            if name in _VALUE_STARTS and not _acts(name, buffer, match.end()):
                continue
            self.found.setdefault(name, None)
        self.tail = b"" if final else buffer[-_CARRY:]

    def close(self):
        self.feed(b"", final=True)


def _acts(name, buffer, end):
    """Whether the key ``name`` ending at ``end`` has a value that makes it act. A gap
    running to the end of a chunk is read again with the next one, so it is not counted
    here unless it is already too long to fit."""
    gap_end = _GAP.match(buffer, end).end()
    if gap_end - end > _MAX_GAP:
        return True
    if gap_end == len(buffer):
        return False
    return buffer.startswith(_VALUE_STARTS[name], gap_end)


class _Budget:
    def __init__(self, limit):
        self.left = limit

    def spend(self, count):
        self.left -= count
        if self.left < 0:
            raise TooMuchToInspect


def _looks_like_zlib(head):
    return (
        len(head) >= 2
        and head[0] & 0x0F == 8
        and head[0] >> 4 <= 7
        and (head[0] << 8 | head[1]) % 31 == 0
    )


def _inflate(chunks, budget):
    """The zlib data at the start of ``chunks``, inflated in bounded steps; stops quietly
    where the data is damaged, as a reader would show what it could inflate."""
    inflater = zlib.decompressobj()
    try:
        for chunk in chunks:
            data = chunk
            while data and not inflater.eof:
                out = inflater.decompress(data, _STEP)
                budget.spend(len(out))
                if out:
                    yield out
                data = inflater.unconsumed_tail
            if inflater.eof:
                return
    except zlib.error:
        return


def _scanned(chunks, found):
    scanner = _NameScanner(found)
    for chunk in chunks:
        scanner.feed(chunk)
        yield chunk
    scanner.close()


def _scan_inflated(chunks, found, budget, depth):
    """Scan what ``chunks`` inflate to, and what that inflates to in turn."""
    inflated = _scanned(_inflate(chunks, budget), found)
    first = next(inflated, b"")
    if _looks_like_zlib(first[:2]):
        if depth >= MAX_NESTING:
            raise TooMuchToInspect
        _scan_inflated(_chain(first, inflated), found, budget, depth + 1)
    for _ in inflated:  # what the inner pass did not read is still scanned
        pass


def _chain(first, rest):
    yield first
    yield from rest


def _slices(view, start):
    # A small first slice: most tries end in the zlib header's first block, and a full
    # step costs several times more to refuse.
    first = min(len(view), start + _FIRST_SLICE)
    yield view[start:first]
    for offset in range(first, len(view), _STEP):
        yield view[offset : offset + _STEP]


def active_content(data):
    """The active names in the PDF ``data`` (bytes), normalised, in the order of
    ``ACTIVE_NAMES``; empty when there are none. Raises ``TooMuchToInspect`` when the
    compressed streams are more than it inspects."""
    found = {}
    view = memoryview(data)
    scanner = _NameScanner(found)
    for chunk in _slices(view, 0):
        scanner.feed(chunk)
    scanner.close()
    budget = _Budget(INFLATE_BUDGET)
    for match in _STREAM.finditer(data):
        start = match.end()
        if _looks_like_zlib(data[start : start + 2]):
            budget.spend(_COST_OF_A_TRY)
            _scan_inflated(_slices(view, start), found, budget, 1)
    return [name for name in ACTIVE_NAMES if name in found]


def describe(names):
    """A sentence naming what was found, for the person uploading."""
    spellings = {}
    for name in names:
        spellings.setdefault(ACTIVE_NAMES[name], []).append("/" + name.decode("latin-1"))
    kinds = ", ".join(f"{label} ({', '.join(found)})" for label, found in spellings.items())
    return (
        f"The PDF contains {kinds}; upload a PDF without active content "
        "(print it to a new PDF, or export it without scripts, actions and attachments)."
    )
