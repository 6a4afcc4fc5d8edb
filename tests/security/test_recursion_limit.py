"""The process keeps Python's default recursion limit, which is what stops the JSON decoders
before they overflow the C stack (a dependency, ``py_ecc``, raises it to 100,000 when it is
imported; ``assessments.engine.recursion`` puts it back)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

IMPORT_EVERYTHING = """
import importlib, os, pkgutil, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox_portal.settings")
import django
django.setup()
import eth_account, eth_keys, py_ecc.secp256k1  # what raised the limit, imported again
names = []
for package in ("sandbox_portal", "applications", "assessments"):
    module = importlib.import_module(package)
    names.append(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
        names.append(info.name)
print(len(names), sys.getrecursionlimit())
"""


def test_importing_every_module_leaves_the_default_recursion_limit():
    child = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    count, limit = map(int, child.stdout.split()[-2:])
    assert count > 100  # every module was walked
    assert limit <= 1000


def test_the_engine_alone_keeps_it_too():
    code = "import assessments.engine, eth_account, sys; print(sys.getrecursionlimit())"
    child = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert int(child.stdout) <= 1000


def test_this_process_keeps_it():
    assert sys.getrecursionlimit() <= 1000
