"""The engine contacts nothing but the case's registered nodes: a run against a node no
longer registered for the case, or against a link-local address, fails with the refusal
and no request is made."""

import pytest

from applications.models import Node
from applications.services import firms
from assessments import services, tasks
from assessments.models import RunStatus, SuiteRun

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
    assert suite.status == RunStatus.FAILED and suite.passed is False
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
        fields={"label": "elsewhere", "endpoint_url": "http://169.254.169.254/"},
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
