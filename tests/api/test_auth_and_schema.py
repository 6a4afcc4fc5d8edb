"""The token login, the OpenAPI schema, its docs page and the health check."""

from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from sandbox_portal.audit.models import AuditEvent

from .helpers import API


def test_it_issues_a_token_for_a_good_password_and_audits_the_login(people):
    response = APIClient().post(
        f"{API}/auth/token/", {"username": "alice", "password": "pw"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=people.alice).key}
    assert AuditEvent.objects.filter(action="auth.login", actor=people.alice).count() == 1
    again = APIClient().post(f"{API}/auth/token/", {"username": "alice", "password": "pw"})
    assert again.json()["token"] == response.json()["token"]


def test_it_refuses_a_wrong_password_with_400_and_audits_the_failure(people):
    response = APIClient().post(
        f"{API}/auth/token/", {"username": "alice", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert "Unable to log in" in response.json()["detail"]
    assert not Token.objects.filter(user=people.alice).exists()
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.after == {"username": "alice"}
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_it_refuses_a_login_without_a_password(people):
    response = APIClient().post(f"{API}/auth/token/", {"username": "alice"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()["errors"]


def test_it_refuses_a_removed_users_login(people):
    people.amir.is_active = False
    people.amir.save()
    response = APIClient().post(f"{API}/auth/token/", {"username": "amir", "password": "pw"})
    assert response.status_code == 400


def test_it_slows_down_password_guessing(people):
    # A different username each time: one username is locked out far sooner (django-axes,
    # tests/security); this is the per-address limit on the token endpoint.
    client = APIClient()
    codes = [
        client.post(f"{API}/auth/token/", {"username": f"guess{n}", "password": "x"}).status_code
        for n in range(31)
    ]
    assert codes[:30] == [400] * 30
    assert codes[30] == 429


def test_a_bad_token_header_does_not_block_the_login(people):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token stale")
    response = client.post(f"{API}/auth/token/", {"username": "alice", "password": "pw"})
    assert response.status_code == 200


def test_the_schema_is_openapi_3_and_names_the_api(client_for, people):
    response = client_for("alice").get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/applications/",
        "/api/v1/applications/{id}/actions/",
        "/api/v1/applications/{id}/actions/{action_name}/",
        "/api/v1/documents/{id}/download/",
        "/api/v1/conditions/{id}/status/",
        "/api/v1/members/{id}/remove/",
    ):
        assert path in paths, path
    assert "delete" not in paths["/api/v1/applications/{id}/"]


def test_the_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
    )
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")


def test_the_docs_page_renders_from_local_assets(client_for, people):
    response = client_for(None).get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "drf_spectacular_sidecar" in html
    assert "cdn.jsdelivr.net" not in html


def test_the_health_check_reports_database_and_broker(db):
    response = APIClient().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}
