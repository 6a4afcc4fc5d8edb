"""Browser journeys: Playwright drives Debian's chromium against the live test server.

- ``chromium``: one headless browser for the folder, launched from ``/usr/bin/chromium``
  (``make test`` installs Debian's package; Playwright's own browser download is never
  used). Without it every journey fails and says how to install it.
- ``open_as(user)``: a fresh browser context logged in as ``user`` through the login page
  (and its one-time code step, when the portal has one). When a journey fails, a
  screenshot, the HTML and the console of each of its pages are kept under
  ``var/test-artifacts/browser/``.
- ``hardhat`` and ``engine_worker``: a real reference node and a real Celery worker on a
  queue of the test's own, sharing the test database (PostgreSQL and Redis when
  ``DATABASE_URL``/``REDIS_URL`` are set, else the SQLite file and the filesystem broker).

Playwright's sync API keeps an event loop running in the main thread while it is started,
which Django's ORM takes for an async context: ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set for
exactly that time (the ORM is still only called from synchronous code).
"""

import os
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from tests.core.test_worker import _database_url
from tests.engine.conftest import stop_node
from tests.runs.conftest import Worker, node_with_transfers

from .login import ensure_totp_device, log_in

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    # The machine's network is closed: no background connections to Google's hosts.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Playwright's waits (actions, navigations, expectations), generous for a busy 2-core box.
TIMEOUT_MS = 20_000
ARTIFACTS = Path(settings.VAR_DIR) / "test-artifacts" / "browser"
# Personas asked for a one-time code after their password once two-factor login is on.
TWO_FACTOR_PERSONAS = ("olivia", "oscar", "victor", "vera", "audrey", "ursula")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures know whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="package")
def chromium():
    """Headless Debian chromium, one for the whole folder."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Debian's chromium is not installed ({CHROMIUM} is missing). `make test` installs "
            "it; by hand, as root: apt-get update && apt-get install -y "
            "--no-install-recommends chromium. (Playwright's own browser download is not used.)",
            pytrace=False,
        )
    args = list(CHROMIUM_ARGS)
    if os.geteuid() == 0:
        args.append("--no-sandbox")  # chromium's sandbox refuses to run as root
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    expect.set_options(timeout=TIMEOUT_MS)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=args
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package", autouse=True)
def _signing_key(tmp_path_factory):
    """Reports are signed with a key of this run's own (made on first use)."""
    key_file = tmp_path_factory.mktemp("report-key") / "report-signing-key.pem"
    with override_settings(
        REPORT_SIGNING_KEY="", REPORT_PUBLIC_KEY="", REPORT_SIGNING_KEY_FILE=key_file
    ):
        yield


@pytest.fixture
def two_factor(people):
    """A confirmed TOTP device for every regulator, approver and auditor, when the portal
    has django-otp's TOTP plugin (otherwise nothing: the login has no code step)."""
    for name in TWO_FACTOR_PERSONAS:
        ensure_totp_device(getattr(people, name))


def _safe(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:120]


def _keep_artifacts(name, sessions):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for number, (label, page, console) in enumerate(sessions, start=1):
        stem = ARTIFACTS / f"{_safe(name)}-{number}-{_safe(label)}"
        stem.with_suffix(".log").write_text(
            f"url: {page.url}\n" + "\n".join(console) + "\n", encoding="utf-8"
        )
        try:
            page.screenshot(path=str(stem.with_suffix(".png")), full_page=True, timeout=10_000)
            stem.with_suffix(".html").write_text(page.content(), encoding="utf-8")
        except PlaywrightError as exc:
            with stem.with_suffix(".log").open("a", encoding="utf-8") as log:
                log.write(f"(no screenshot: {exc})\n")


@pytest.fixture
def open_as(chromium, live_server, two_factor, request):
    """``open_as(user)``: a page in a browser context of its own, logged in as ``user``."""
    sessions = []
    contexts = []

    def open_as(user):
        context = chromium.new_context(
            base_url=live_server.url,
            accept_downloads=True,
            viewport={"width": 1280, "height": 900},
        )
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        console = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
        sessions.append((user.username, page, console))
        log_in(page, user)
        return page

    yield open_as
    failed = any(
        getattr(request.node, f"rep_{when}", None) is not None
        and getattr(request.node, f"rep_{when}").failed
        for when in ("setup", "call")
    )
    if failed:
        _keep_artifacts(request.node.name, sessions)
    for context in contexts:
        context.close()


@pytest.fixture
def upload_file(tmp_path):
    """``upload_file(name, data)``: a file on disk for a page's file input."""

    def make(name, data):
        path = tmp_path / "uploads" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    return make


@pytest.fixture(scope="package")
def hardhat(tmp_path_factory):
    """A real Hardhat node with a few signed transfers in its blocks (for the crypto suite)."""
    node = node_with_transfers(tmp_path_factory.mktemp("browser-chain"))
    yield node
    stop_node(node)


@pytest.fixture
def engine_worker(settings, tmp_path):
    """A real Celery worker consuming an engine queue of this test's own; the portal (the
    live server, in this process) sends its runs there."""
    queue = f"engine-browser-{uuid.uuid4().hex[:12]}"
    settings.ENGINE_QUEUE = queue
    env = os.environ.copy()
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "sandbox_portal.settings",
            "DATABASE_URL": _database_url(),
            # The same broker folder as this process, so what it queues reaches the worker.
            "VAR_DIR": str(settings.VAR_DIR),
            "ENGINE_QUEUE": queue,
            "PYTHONUNBUFFERED": "1",
        }
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    worker = Worker(queue, tmp_path / "engine-worker.log", env)
    yield worker
    worker.stop()
