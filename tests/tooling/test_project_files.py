import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from applications.demo import LOGINS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_the_readme_documents_every_setting_read_from_the_environment():
    source = (ROOT / "sandbox_portal" / "settings.py").read_text()
    names = set(re.findall(r'(?:environ\.get|env_bool|env_list)\(\s*"([A-Z0-9_]+)"', source))
    assert {"DEBUG", "REDIS_URL", "SECRET_KEY"} <= names
    # dj-database-url reads DATABASE_URL itself.
    names.add("DATABASE_URL")

    missing = sorted(name for name in names if f"`{name}`" not in README)
    assert missing == []


def test_the_readme_lists_every_demo_login_and_the_two_commands():
    for username, _ in LOGINS:
        assert f"`{username}`" in README
    assert "`sandbox-demo`" in README
    assert "make run" in README and "make test" in README


def test_the_makefile_has_the_documented_targets():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))

    assert {"run", "test", "install", "lint", "demo", "clean"} <= targets


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
def test_make_test_runs_the_linters_the_django_checks_and_pytest():
    # Run under `make test` itself, so leave out the outer make's flags.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    dry_run = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "test"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    steps = [
        "ruff check .",
        "ruff format --check .",
        "manage.py check",
        "manage.py makemigrations --check --dry-run",
        "pytest tests",
    ]
    positions = [dry_run.find(step) for step in steps]

    assert -1 not in positions, dry_run
    assert positions == sorted(positions)


def test_ci_run_is_an_executable_bash_script_that_runs_make_test():
    script = ROOT / ".ci" / "run"
    text = script.read_text()

    assert os.access(script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    assert "make test" in text
    assert "DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres" in text
    assert "REDIS_URL=redis://127.0.0.1:6379/0" in text
