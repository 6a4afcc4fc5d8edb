from io import StringIO

import pytest
from django.core.management import call_command

from tests.engine.conftest import free_port, start_node, stop_node


@pytest.fixture
def no_reference_node(monkeypatch):
    """CHAIN_PORT points at a port where nothing listens, whatever runs on this machine."""
    port = free_port()
    monkeypatch.setenv("CHAIN_PORT", str(port))
    return port


@pytest.fixture
def demo(db, no_reference_node):
    """The demo, loaded through ``manage.py load_demo`` with no reference node answering."""
    call_command("load_demo", stdout=StringIO())


@pytest.fixture(scope="module")
def reference_chain(tmp_path_factory):
    """A Hardhat node as ``make run`` starts it: interval mining, a block every second."""
    node = start_node(tmp_path_factory.mktemp("reference"), chain_id=31337, automine=False)
    yield node
    stop_node(node)


@pytest.fixture
def reference_node(reference_chain, monkeypatch):
    """CHAIN_PORT points at the running reference node."""
    monkeypatch.setenv("CHAIN_PORT", reference_chain.url.rsplit(":", 1)[1])
    return reference_chain
