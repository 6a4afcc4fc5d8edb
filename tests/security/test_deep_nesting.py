"""No request crashes the server with deeply nested JSON.

The probe (``deep_nesting_probe.py``) sends 100,000 nested arrays to every route that takes
a body (from the URL configuration and the OpenAPI schema, anonymous and as personas who
may use each route) and through the trace uploads, the report verification and the JSON
form fields. It runs in a child pytest process: a decoder overflowing the C stack kills
that process with a signal, and this test fails with its output instead of the whole run
dying. The child always uses its own SQLite database, never the parent's.
"""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("deep_nesting_probe.py")


def test_deeply_nested_bodies_are_refused_and_the_process_survives():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PYTHONFAULTHANDLER"] = "1"  # a crash prints where it happened
    child = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", str(PROBE), "-q", "-p", "no:cacheprovider"),
            *("--show-capture=no", "--tb=short"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = (child.stdout + child.stderr)[-6000:]
    assert child.returncode >= 0, (
        f"the probe process was killed by signal {-child.returncode}:\n{output}"
    )
    assert child.returncode == 0, output
    assert " passed" in child.stdout and "failed" not in child.stdout, output
