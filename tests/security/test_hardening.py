"""Hardening: login throttling, the content security policy, security headers, production
settings (``check --deploy``), API throttling, upload sniffing and bad ids."""

import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from applications.models import Document
from sandbox_portal.accounts.throttling import LOCKED_OUT

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"


def _fail_logins(client, username, times):
    for _ in range(times):
        client.post(LOGIN, {"username": username, "password": "wrong"})


# Login throttling -----------------------------------------------------------------------


def test_it_locks_out_a_username_after_repeated_failed_logins(people):
    client = Client()
    _fail_logins(client, "alice", settings.AXES_FAILURE_LIMIT)
    response = client.post(LOGIN, {"username": "alice", "password": "pw"})
    assert response.status_code == 429
    assert LOCKED_OUT in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_lets_a_user_log_in_after_fewer_failures_than_the_limit(people):
    client = Client()
    _fail_logins(client, "alice", settings.AXES_FAILURE_LIMIT - 1)
    response = client.post(LOGIN, {"username": "alice", "password": "pw"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(people.alice.pk)


def test_a_lockout_does_not_affect_another_user_from_the_same_address(people):
    client = Client()
    _fail_logins(client, "alice", settings.AXES_FAILURE_LIMIT)
    other = Client()
    response = other.post(LOGIN, {"username": "olivia", "password": "pw"})
    assert response.status_code == 302
    assert other.session["_auth_user_id"] == str(people.olivia.pk)


def test_the_token_endpoint_is_locked_out_too(people):
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(TOKEN, {"username": "amir", "password": "bad"}).status_code == 400
    # The failure that reaches the limit is answered with the lockout already.
    assert client.post(TOKEN, {"username": "amir", "password": "bad"}).status_code == 429
    response = client.post(TOKEN, {"username": "amir", "password": "pw"})
    assert response.status_code == 429
    assert response.json()["detail"] == LOCKED_OUT
    assert "token" not in response.json()
    # Another user still gets a token.
    ok = client.post(TOKEN, {"username": "alice", "password": "pw"})
    assert ok.status_code == 200 and ok.json()["token"]


def test_failures_on_the_page_and_the_api_count_together(people):
    _fail_logins(Client(), "bella", settings.AXES_FAILURE_LIMIT - 1)
    APIClient().post(TOKEN, {"username": "bella", "password": "bad"})
    assert Client().post(LOGIN, {"username": "bella", "password": "pw"}).status_code == 429


# Content security policy and headers ----------------------------------------------------


def _policy(response):
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_every_page_carries_a_content_security_policy_without_inline_scripts(people):
    client = Client()
    client.force_login(people.alice)
    policy = _policy(client.get("/"))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert "'unsafe-eval'" not in " ".join(sum(policy.values(), []))


def test_the_login_page_has_the_policy_and_the_security_headers():
    response = Client().get(LOGIN)
    assert "Content-Security-Policy" in response
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


TEMPLATE_DIRS = [settings.BASE_DIR / "templates"] + [
    path
    for path in (settings.BASE_DIR / "applications", settings.BASE_DIR / "assessments")
    for path in path.rglob("templates")
]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"(href|src|action)\s*=\s*[\"']\s*javascript:", re.IGNORECASE)


def _templates():
    # Report templates are rendered to PDF by WeasyPrint, which runs no scripts at all.
    return [
        path
        for folder in TEMPLATE_DIRS
        for path in folder.rglob("*.html")
        if "reports/report" not in path.as_posix()
    ]


def test_no_template_has_an_inline_script_or_event_handler():
    templates = _templates()
    assert templates
    offenders = [
        f"{path}: {pattern.pattern}"
        for path in templates
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, JAVASCRIPT_URL)
        if pattern.search(path.read_text())
    ]
    assert not offenders


def test_the_template_scan_recognises_an_inline_script():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/x.js" defer></script>')
    assert INLINE_HANDLER.search('<button onclick="go()">')


def test_the_api_docs_page_loads_its_script_from_a_file():
    body = Client().get("/api/docs/").content.decode()
    assert not INLINE_SCRIPT.search(body)


# Production settings ---------------------------------------------------------------------


def _manage(args, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "SECRET_KEY", "DJANGO_PRODUCTION", "SECURE_COOKIES")
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_under_production_settings():
    result = _manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_PRODUCTION="1",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="sandbox.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr.replace("INFO", "")


def test_check_deploy_does_warn_without_production_settings():
    result = _manage(["check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode != 0
    assert "security.W" in result.stdout + result.stderr


def test_production_refuses_to_start_with_the_development_key():
    result = _manage(["check"], DJANGO_PRODUCTION="1", ALLOWED_HOSTS="sandbox.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_a_short_key():
    result = _manage(["check"], DJANGO_PRODUCTION="1", SECRET_KEY="short-key")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


# API throttling --------------------------------------------------------------------------


@pytest.fixture
def tight_api_rates(monkeypatch):
    rates = {**UserRateThrottle.THROTTLE_RATES, "user": "3/min", "anon": "2/min"}
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)


def test_the_api_throttles_a_token_user_past_the_rate(people, tight_api_rates):
    client = APIClient()
    client.force_authenticate(people.alice)
    statuses = [client.get("/api/v1/applications/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # Each user has a budget of their own.
    other = APIClient()
    other.force_authenticate(people.olivia)
    assert other.get("/api/v1/applications/").status_code == 200


def test_the_api_has_generous_default_rates():
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates["user"] and rates["anon"]
    number, period = rates["user"].split("/")
    assert int(number) >= 1000 and period.startswith("h")


# Uploads and ids ----------------------------------------------------------------------------


def test_it_refuses_an_executable_renamed_to_a_pdf(people, draft_a):
    client = APIClient()
    client.force_authenticate(people.alice)
    before = Document.objects.count()
    response = client.post(
        "/api/v1/documents/",
        {
            "application": draft_a.pk,
            "kind": "white_paper",
            "file": SimpleUploadedFile("white-paper.pdf", b"MZ\x90\x00\x03 an executable"),
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert Document.objects.count() == before


def test_it_refuses_an_elf_binary_renamed_to_a_pdf_on_the_page(people, draft_a):
    client = Client()
    client.force_login(people.alice)
    before = Document.objects.count()
    response = client.post(
        reverse("document-upload", args=[draft_a.pk]),
        {
            "kind": "white_paper",
            "file": SimpleUploadedFile("paper.pdf", b"\x7fELF\x02\x01\x01 binary"),
        },
    )
    assert response.status_code == 400
    assert Document.objects.count() == before


@pytest.mark.parametrize(
    "query", ["firm=99999999999999999999999", "firm=-4.1e%2B81", "application=0.5"]
)
@pytest.mark.parametrize("collection", ["nodes", "documents", "test-runs", "reports"])
def test_an_id_filter_out_of_range_is_a_400_not_a_server_error(people, collection, query):
    client = APIClient()
    client.force_authenticate(people.olivia)
    response = client.get(f"/api/v1/{collection}/?{query}")
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.json()["detail"]


def test_an_unknown_api_path_answers_json_not_a_page(people):
    client = APIClient()
    client.force_authenticate(people.alice)
    response = client.get("/api/v1/applications/0.5/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
