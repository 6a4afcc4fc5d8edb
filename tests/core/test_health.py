"""GET /healthz: 200 when the database and the broker answer, 503 naming what is down."""

import pytest


@pytest.mark.django_db
def test_it_reports_the_database_and_the_broker_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_it_needs_no_login(client):
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_it_answers_503_naming_the_broker_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("down")


@pytest.mark.django_db
def test_it_answers_503_naming_the_broker_when_its_folder_is_missing(client, settings, tmp_path):
    settings.REDIS_URL = ""
    settings.BROKER_DIR = tmp_path / "no-such-broker"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "down: OSError"}


@pytest.mark.django_db
def test_it_answers_503_naming_the_database_when_it_is_down(client, monkeypatch):
    from sandbox_portal import health

    def database_down():
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(health, "_database", database_down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down: ConnectionError"
    assert response.json()["broker"] == "ok"
