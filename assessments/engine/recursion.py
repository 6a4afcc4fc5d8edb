"""Keeps the process's recursion limit at Python's default.

``py_ecc`` (imported through ``eth_keys`` and ``eth_account``) raises the limit to 100,000
for the whole process when it is first imported. Python's recursion limit is also what stops
the C decoders of ``json`` and ``msgspec`` before they overflow the C stack, so at 100,000 a
deeply nested JSON body crashes the process with a segmentation fault instead of raising
``RecursionError``. Nothing the portal calls in ``py_ecc`` needs deep recursion (the
signing and recovery paths are iterative).

Importing this module imports ``py_ecc`` once, here, and puts the limit back. Both
``assessments.engine`` and ``sandbox_portal`` import it before anything else, so every
process (web server, worker, beat, management commands, tests) passes through it before
``py_ecc`` could be imported elsewhere. It imports nothing from Django.
"""

import sys

PYTHON_DEFAULT_LIMIT = 1000
"""CPython's default recursion limit: what the decoders' stack protection assumes."""


def restore() -> int:
    """Import ``py_ecc`` (if not yet imported) and set the limit to at most Python's
    default; return the limit now in force."""
    before = sys.getrecursionlimit()
    import py_ecc  # noqa: F401 - imported for its side effect on the limit, undone below

    sys.setrecursionlimit(min(before, PYTHON_DEFAULT_LIMIT))
    return sys.getrecursionlimit()


restore()
