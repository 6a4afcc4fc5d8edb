"""Deeply nested JSON sent to every route that takes a body, and through every upload and
form that decodes JSON. Run only in a child process by ``test_deep_nesting.py`` (the name
keeps the parent's collection away from it): a decoder that overflows the C stack kills
the process, and the parent reports that as a failure instead of dying with it.
"""

import html
import io
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import Resolver404, resolve
from pypdf import PdfWriter

from applications.forms import DecideForm
from assessments.forms import StartRunForm
from assessments.reports import verification
from assessments.traces import services as trace_services
from assessments.traces.models import TraceUpload
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import advance, login
from tests.security.routes import all_routes
from tests.security.test_matrix import url_for
from tests.traces.helpers import consensus_header, jsonl

DEEP = "[" * 100_000 + "]" * 100_000
MALFORMED = "["  # a small bad body: what a route answers when its body is simply wrong
BODY_METHODS = ("POST", "PUT", "PATCH")
# Anonymous, a firm admin, each regulator role and an auditor: between them they pass the
# permission checks of every route, so the body reaches the parser behind them.
PROBED = ["anonymous", "alice", "olivia", "victor", "audrey"]


def _schema_operations(client):
    """(route key, method) of every API operation in the OpenAPI schema that takes a body."""
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    operations = set()
    for path, methods in schema["paths"].items():
        concrete = re.sub(
            r"\{([^}]+)\}", lambda m: "1" if m.group(1) in ("id", "pk") else "x", path
        )
        for method in methods:
            if method.upper() not in BODY_METHODS:
                continue
            try:
                match = resolve(concrete)
            except Resolver404:  # pragma: no cover - a schema path the URLs do not know
                raise AssertionError(f"schema path {path} resolves to no route") from None
            operations.add((match.view_name, method.upper()))
    return operations


def _targets(objects, client):
    """(url, method, is_api) for every route that takes a body: pages (POST), API routes
    (their body methods), and every body operation of the schema."""
    routes = {r.key: r for r in all_routes() if not r.is_admin}
    wanted = set()
    for route in routes.values():
        if not route.is_api:
            wanted.add((route.key, "POST"))
        else:
            wanted.update((route.key, m) for m in route.methods if m in BODY_METHODS)
    schema = _schema_operations(client)
    assert schema, "the schema lists no operation that takes a body"
    wanted |= schema
    targets = []
    for key, method in sorted(wanted):
        route = routes[key]
        try:
            url = url_for(route, objects)
        except (KeyError, AttributeError):  # a route the matrix has no object for yet
            url = route.url(dict.fromkeys(_names(route), objects.application.pk))
        targets.append((url, method, route.is_api))
    return targets


def _names(route):
    return [a or b for a, b in re.findall(r"\(\?P<(\w+)>|<(?:\w+:)?(\w+)>", route.pattern)]


def _send(client, method, url, body):
    """The status of ``body`` sent as JSON, with whatever it wrote undone."""
    point = transaction.savepoint()
    try:
        return client.generic(method, url, body, content_type="application/json").status_code
    finally:
        transaction.savepoint_rollback(point)
        cache.clear()  # throttles


def test_every_route_refuses_a_deeply_nested_json_body(firm_a_objects, clients):
    wrong = []
    targets = _targets(firm_a_objects, clients["anonymous"].page)
    assert len(targets) > 50
    for url, method, is_api in targets:
        for persona in PROBED:
            client = clients[persona].api if is_api else clients[persona].page
            try:
                status = _send(client, method, url, DEEP)
                if 400 <= status < 500:
                    continue
                baseline = _send(client, method, url, MALFORMED)
            except Exception as exc:  # noqa: BLE001 - every failure is listed
                wrong.append(f"{method} {url} as {persona}: raised {exc!r:.200}")
                continue
            if status != baseline or status >= 500:
                wrong.append(f"{method} {url} as {persona}: {status} (a bad body: {baseline})")
    assert not wrong, "\n".join(wrong)


def test_the_token_endpoint_names_the_bound_without_login(client):
    response = client.post("/api/v1/auth/token/", DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper than the limit of 64 levels" in response.json()["detail"]
    response = client.post("/api/v1/auth/token/", "[" * 64 + "]" * 64, "application/json")
    assert response.status_code == 400 and "nested" not in response.json()["detail"]


@pytest.mark.parametrize(
    "line",
    [DEEP.encode(), b'{"type":"vote","extra":' + DEEP.encode() + b"}"],
    ids=["bare", "field"],
)
def test_a_trace_with_a_deeply_nested_line_is_refused_naming_the_line(
    client, people, submitted_a, line
):
    app = advance(submitted_a, people, "technical_testing")
    data = jsonl([consensus_header()]) + line + b"\n"
    api = login(client, people.alice)
    response = api.post(
        "/api/v1/traces/",
        {"application": app.pk, "kind": "consensus", "file": SimpleUploadedFile("t.jsonl", data)},
    )
    assert response.status_code == 400, response.content[:300]
    assert "line 2:" in response.json()["detail"]
    page = api.post(
        f"/cases/{app.pk}/traces/",
        {"kind": "consensus", "file": SimpleUploadedFile("t.jsonl", data)},
    )
    assert page.status_code == 400
    assert "The file is refused at line 2:" in html.unescape(page.content.decode())
    assert TraceUpload.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="trace.").exists()


def test_a_stored_trace_with_a_deeply_nested_line_fails_its_check(people, submitted_a):
    app = advance(submitted_a, people, "technical_testing")
    good = jsonl([consensus_header()])
    upload = trace_services.upload_trace(
        app,
        actor=people.alice,
        kind="consensus",
        uploaded=SimpleUploadedFile("t.jsonl", good),
    )
    with open(upload.file.path, "ab") as handle:
        handle.write(b'{"type":"vote","extra":' + DEEP.encode() + b"}\n")
    assert trace_services.check_upload(upload.pk) == "failed"
    upload.refresh_from_db()
    assert "line 2:" in upload.error and "nested too deeply" in upload.error


def _pdf_with_signature(signature: bytes) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(72, 72)
    writer.add_attachment(verification.EVALUATION_ATTACHMENT, b"{}")
    writer.add_attachment(verification.SIGNATURE_ATTACHMENT, signature)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_report_with_a_deeply_nested_signature_is_not_authentic(client, people):
    pdf = _pdf_with_signature(DEEP.encode())
    page = login(client, people.audrey)
    response = page.post(
        "/api/v1/reports/verify/", {"file": SimpleUploadedFile("r.pdf", pdf, "application/pdf")}
    )
    assert response.status_code == 200, response.content[:300]
    assert response.json()["authentic"] is False
    assert response.json()["reason"] == verification.NO_SIGNATURE
    response = page.post("/verify", {"file": SimpleUploadedFile("r.pdf", pdf, "application/pdf")})
    assert response.status_code == 200
    assert verification.NO_SIGNATURE in response.content.decode().lower()


def test_the_decide_form_refuses_deeply_nested_testing_parameters():
    for text in (DEEP, "[" * 65 + "]" * 65):
        form = DecideForm(
            data={"outcome": "admit", "rationale": "Yes.", "testing_parameters": text}
        )
        assert not form.is_valid()
        assert "nested deeper" in str(form.errors["testing_parameters"]) or "longer" in str(
            form.errors["testing_parameters"]
        )
        str(form["testing_parameters"])  # shown again without decoding it
    form = DecideForm(
        data={"outcome": "admit", "rationale": "Yes.", "testing_parameters": '{"a": [[1]]}'}
    )
    assert form.is_valid(), form.errors


def test_the_test_run_form_refuses_deeply_nested_parameters(people, submitted_a):
    app = advance(submitted_a, people, "technical_testing")
    for text in ("[" * 5000 + "]" * 5000, "[" * 65 + "]" * 65):
        form = StartRunForm(app, data={"suites": ["block"], "parameters": text})
        assert not form.is_valid()
        assert "nested deeper than the limit of 64 levels" in str(form.errors["parameters"])
