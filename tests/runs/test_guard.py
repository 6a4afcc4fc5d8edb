"""The engine contacts nothing but the case's registered nodes: a run against a node no
longer registered for the case, or against a link-local address, fails with the refusal
and no request is made. An address outside the public internet (here 127.0.0.1) is refused
unless OUTGOING_ALLOWED_NETWORKS lists it, and nothing a node answered reaches what a firm
reads."""

import io
import socket
import threading

import pytest
from django.core.management import call_command
from django.utils import timezone

from applications.models import Node
from applications.services import firms
from assessments import services, tasks
from assessments.models import RunStatus, SuiteRun
from tests.conftest import advance

pytestmark = pytest.mark.django_db(transaction=True)


def run_now(run, actor):
    """Run the task's body in this process (the worker tests cover the worker)."""
    return tasks.execute_test_run(run.pk, actor.pk)


def start(app, actor, monkeypatch):
    monkeypatch.setattr(tasks, "enqueue", lambda *args, **kwargs: None)
    return services.start_run(
        app,
        actor=actor,
        suites=["block"],
        parameters={"block": {"blocks": 2, "observe_seconds": 0.0}},
        node_ids=[n.pk for n in app.nodes.all()],
    )


def test_a_link_local_endpoint_is_refused_before_any_connection(people, testing_a, monkeypatch):
    node = testing_a.nodes.get()
    Node.objects.filter(pk=node.pk).update(endpoint_url="http://169.254.169.254/")
    run = start(testing_a, people.olivia, monkeypatch)
    assert run_now(run, people.olivia) == "failed"
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "block: refused: http://169.254.169.254/" in run.error
    assert "link-local" in run.error or "metadata" in run.error
    suite = SuiteRun.objects.get(test_run=run)
    # The engine could not test the node: the run is invalid, no verdict on the firm.
    assert suite.status == RunStatus.FAILED and suite.outcome == "invalid"
    assert suite.passed is None and "refused" in suite.invalid_reason
    assert run.outcome == "invalid" and "refused" in run.invalid_reason
    assert "refused" in suite.error


def test_a_node_removed_from_the_case_after_the_start_is_never_contacted(
    people, testing_a, listener, monkeypatch
):
    node = testing_a.nodes.get()
    Node.objects.filter(pk=node.pk).update(endpoint_url=listener.url)
    run = start(testing_a, people.olivia, monkeypatch)
    # The firm takes the node off the case before a worker picks the run up.
    testing_a.nodes.remove(node)
    assert run_now(run, people.olivia) == "failed"
    run.refresh_from_db()
    assert "refused" in run.error and listener.url in run.error
    assert listener.requests == []


def test_the_service_refuses_a_node_of_another_case_up_front(people, testing_a, monkeypatch):
    stranger = firms.save_node(
        people.firm_b,
        actor=people.bella,
        fields={"label": "elsewhere", "endpoint_url": "http://93.184.215.14:8545/"},
    )
    monkeypatch.setattr(tasks, "enqueue", lambda *args, **kwargs: None)
    with pytest.raises(services.ValidationError):
        services.start_run(testing_a, actor=people.olivia, suites=["block"], node_ids=[stranger.pk])


def test_an_unreachable_node_fails_the_run_and_says_which(people, testing_a, monkeypatch):
    from tests.engine.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}"
    Node.objects.filter(pk=testing_a.nodes.get().pk).update(endpoint_url=url)
    run = start(testing_a, people.olivia, monkeypatch)
    assert run_now(run, people.olivia) == "failed"
    run.refresh_from_db()
    assert run.error.startswith("block: node ") and "unreachable" in run.error
    assert url in run.error


# A node pointed at a service of the portal's own host --------------------------------------

SECRET = "db-password-Zq81-not-for-firms"


class SecretServer:
    """A local service that counts the connections it accepts and answers each with its
    secret: an HTTP 200 whose body is not JSON, or (``banner=True``) a raw banner."""

    def __init__(self, banner=False):
        self.banner = banner
        self.accepts = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepts += 1
            with conn:
                conn.settimeout(1.0)
                try:
                    if self.banner:
                        conn.sendall(f"SSH-2.0-{SECRET}\r\n".encode())
                        continue
                    conn.recv(65536)
                    body = f"<html><body>{SECRET}</body></html>".encode()
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                        + f"Content-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                except OSError:
                    pass

    def close(self):
        self.stopping.set()
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def secret_server():
    server = SecretServer()
    yield server
    server.close()


def stored_text():
    """Everything the database holds (runs, results, logs, samples, incidents, audit)."""
    out = io.StringIO()
    call_command("dumpdata", exclude=["contenttypes", "auth.permission"], stdout=out)
    return out.getvalue()


def point_node_at(app, url):
    node = app.nodes.get()
    Node.objects.filter(pk=node.pk).update(endpoint_url=url)
    return node


def probe_now(app, django_capture_on_commit_callbacks):
    from assessments.monitoring import services as monitoring
    from assessments.monitoring.models import AlertRules

    AlertRules.objects.update_or_create(application=app, defaults={"down_after_probes": 1})
    with django_capture_on_commit_callbacks(execute=True):
        return monitoring.probe_case(app.pk, now=timezone.now())


def test_a_test_run_refuses_a_loopback_node_without_connecting(
    people, testing_a, secret_server, settings, monkeypatch, caplog
):
    settings.OUTGOING_ALLOWED_NETWORKS = []
    point_node_at(testing_a, secret_server.url)
    run = start(testing_a, people.olivia, monkeypatch)
    assert run_now(run, people.olivia) == "failed"
    run.refresh_from_db()
    assert "refused" in run.error and "loopback" in run.error
    assert secret_server.accepts == 0
    assert SECRET not in stored_text() and SECRET not in caplog.text


def test_a_monitoring_probe_refuses_a_loopback_node_without_connecting(
    people, submitted_a, secret_server, settings, django_capture_on_commit_callbacks, caplog
):
    from assessments.monitoring.models import Incident, ProbeSample

    settings.OUTGOING_ALLOWED_NETWORKS = []
    app = advance(submitted_a, people, "in_sandbox")
    node = point_node_at(app, secret_server.url)
    assert probe_now(app, django_capture_on_commit_callbacks) == "probed"
    sample = ProbeSample.objects.get(node=node)
    assert not sample.up and "refused" in sample.error and "loopback" in sample.error
    assert Incident.objects.filter(application=app).exists()
    assert secret_server.accepts == 0
    assert SECRET not in stored_text() and SECRET not in caplog.text


def test_an_allowed_node_answering_garbage_is_not_json_and_its_answer_is_not_repeated(
    people, testing_a, secret_server, monkeypatch, caplog
):
    # The tests' setting lists 127.0.0.1/32: the server is reached this time.
    point_node_at(testing_a, secret_server.url)
    run = start(testing_a, people.olivia, monkeypatch)
    assert run_now(run, people.olivia) == "failed"
    run.refresh_from_db()
    assert "not JSON" in run.error
    assert secret_server.accepts >= 1
    assert SECRET not in stored_text() and SECRET not in caplog.text


def test_an_allowed_node_answering_garbage_to_a_probe_is_not_repeated(
    people, submitted_a, secret_server, django_capture_on_commit_callbacks, caplog
):
    from assessments.monitoring.models import ProbeSample

    app = advance(submitted_a, people, "in_sandbox")
    node = point_node_at(app, secret_server.url)
    probe_now(app, django_capture_on_commit_callbacks)
    sample = ProbeSample.objects.get(node=node)
    assert not sample.up and "not JSON" in sample.error
    assert secret_server.accepts >= 1
    assert SECRET not in stored_text() and SECRET not in caplog.text


def test_an_open_and_a_closed_port_differ_only_by_the_class_of_failure(
    people, testing_a, monkeypatch, caplog
):
    from tests.engine.conftest import free_port

    banner = SecretServer(banner=True)
    closed = f"http://127.0.0.1:{free_port()}/"
    try:
        errors = {}
        for name, url in (("open", banner.url), ("closed", closed)):
            point_node_at(testing_a, url)
            run = start(testing_a, people.olivia, monkeypatch)
            assert run_now(run, people.olivia) == "failed"
            run.refresh_from_db()
            errors[name] = run.error.replace(url.rstrip("/"), "URL")
        assert banner.accepts >= 1
    finally:
        banner.close()
    assert "connection refused" in errors["closed"]
    for error in errors.values():
        assert SECRET not in error and "Errno" not in error and "SSH" not in error
    assert SECRET not in stored_text() and SECRET not in caplog.text


def test_with_the_default_setting_open_and_closed_ports_look_the_same(
    people, testing_a, settings, monkeypatch
):
    from tests.engine.conftest import free_port

    settings.OUTGOING_ALLOWED_NETWORKS = []
    banner = SecretServer(banner=True)
    closed = f"http://127.0.0.1:{free_port()}/"
    try:
        errors = []
        for url in (banner.url, closed):
            point_node_at(testing_a, url)
            run = start(testing_a, people.olivia, monkeypatch)
            assert run_now(run, people.olivia) == "failed"
            run.refresh_from_db()
            errors.append(run.error.replace(url.rstrip("/"), "URL"))
        assert banner.accepts == 0
    finally:
        banner.close()
    assert errors[0] == errors[1] and "loopback" in errors[0]


def test_endpoint_refusal_follows_the_setting(settings):
    from sandbox_portal.outgoing import allowed_networks, endpoint_refusal

    settings.OUTGOING_ALLOWED_NETWORKS = []
    assert allowed_networks() == ()
    assert "loopback" in endpoint_refusal("http://127.0.0.1:8545")
    assert "metadata" in endpoint_refusal("http://169.254.169.254/")
    assert "private" in endpoint_refusal("http://10.0.0.1:8545")
    settings.OUTGOING_ALLOWED_NETWORKS = ["127.0.0.1/32", "10.0.0.0/8"]
    assert endpoint_refusal("http://127.0.0.1:8545") is None
    assert endpoint_refusal("http://10.0.0.1:8545") is None
    assert "metadata" in endpoint_refusal("http://169.254.169.254/")
