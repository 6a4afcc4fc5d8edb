"""Monitoring against real Hardhat nodes: a steady chain that is never touched, and a second
chain (another chain id, started separately) whose mining the tests pause, resume and
rewind. Firm A's case is in the sandbox with its node registered."""

import datetime

import pytest
from django.utils import timezone

from applications.models import Node
from applications.services import firms
from assessments.monitoring import services
from assessments.monitoring.models import AlertRules
from tests.conftest import advance
from tests.engine.conftest import start_node, stop_node
from tests.engine.helpers import Listener


@pytest.fixture(scope="session")
def steady(tmp_path_factory):
    """Chain 31337: one block a second, nobody changes it."""
    node = start_node(tmp_path_factory.mktemp("monitoring-steady"), chain_id=31337)
    yield node
    stop_node(node)


@pytest.fixture(scope="session")
def _other_node(tmp_path_factory):
    node = start_node(tmp_path_factory.mktemp("monitoring-other"), chain_id=31338)
    yield node
    stop_node(node)


@pytest.fixture
def other(_other_node):
    """Chain 31338, another chain than ``steady``; mining is back to a block a second after
    each test, whatever the test did to it."""
    yield _other_node
    _other_node.rpc("evm_setIntervalMining", 1000)


@pytest.fixture
def dead_url():
    """A local port nothing answers on."""
    listener = Listener()
    url = listener.url
    listener.close()
    return url


@pytest.fixture
def sandbox_case(people, submitted_a):
    return advance(submitted_a, people, "in_sandbox")


def register(app, people, label, url):
    """Register one more node of Firm A for the case (or point an existing label at url)."""
    node = Node.objects.filter(firm=people.firm_a, label=label).first()
    if node is None:
        node = firms.save_node(
            people.firm_a, actor=people.alice, fields={"label": label, "endpoint_url": url}
        )
    else:
        Node.objects.filter(pk=node.pk).update(endpoint_url=url)
        node.refresh_from_db()
    app.nodes.add(node)
    return node


@pytest.fixture
def live_case(sandbox_case, people, steady):
    """Firm A's case in the sandbox, its one registered node the steady chain."""
    node = sandbox_case.nodes.get()
    Node.objects.filter(pk=node.pk).update(endpoint_url=steady.url)
    return sandbox_case


def set_rules(app, **values):
    rules, _ = AlertRules.objects.get_or_create(application=app)
    for name, value in values.items():
        setattr(rules, name, value)
    rules.save()
    return rules


@pytest.fixture
def probe(django_capture_on_commit_callbacks):
    """probe(app, at): one probe of the case at the time ``at``, its mail sent as on commit."""

    def run(app, at=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return services.probe_case(app.pk, now=at or timezone.now(), **kwargs)

    return run


def later(start, seconds):
    return start + datetime.timedelta(seconds=seconds)
