"""Test runs against a real Hardhat node, and real Celery workers consuming the engine
queue (Redis and PostgreSQL when configured, else the filesystem broker and the SQLite
test database file)."""

import os
import signal
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from django.conf import settings

from applications.models import Node
from tests.conftest import advance
from tests.core.test_worker import _database_url
from tests.engine.conftest import start_node, stop_node

# What the tests run: two quick L1 suites with small parameters.
QUICK_SUITES = ["block", "crypto"]
QUICK_PARAMETERS = {
    "block": {"blocks": 10, "observe_seconds": 2.0},
    "crypto": {"blocks": 20, "max_transactions": 20},
}
# The heartbeat of the tests' workers: a run silent for this long lost its worker.
STALE_AFTER_SECONDS = 2


def node_with_transfers(folder):
    """A Hardhat node with a few signed transfers in its blocks, for the crypto suite."""
    node = start_node(folder, chain_id=31337)
    accounts = node.rpc("eth_accounts")
    for i in range(3):
        node.rpc(
            "eth_sendTransaction",
            {"from": accounts[1], "to": accounts[2 + i], "value": hex(10**15)},
        )
    return node


@pytest.fixture(scope="session")
def hardhat(tmp_path_factory):
    """A Hardhat node with a few signed transfers in its blocks, for the crypto suite."""
    node = node_with_transfers(tmp_path_factory.mktemp("runs-chain"))
    yield node
    stop_node(node)


@pytest.fixture
def testing_a(people, submitted_a):
    """Firm A's case in technical testing; its node's endpoint is not a live node."""
    return advance(submitted_a, people, "technical_testing")


@pytest.fixture
def live_case(testing_a, hardhat):
    """Firm A's case in technical testing, its registered node the Hardhat node."""
    node = testing_a.nodes.get()
    Node.objects.filter(pk=node.pk).update(endpoint_url=hardhat.url)
    return testing_a


def wait_for(predicate, timeout=60, interval=0.2, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


class Worker:
    """A Celery worker process consuming one test queue (the engine queue of these tests)."""

    def __init__(self, queue, log_path, env):
        self.queue = queue
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "sandbox_portal",
                    "worker",
                    "--pool=solo",
                    "--queues",
                    queue,
                    "--hostname",
                    f"{queue}-{uuid.uuid4().hex[:6]}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel=INFO",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self):
        return self.log_path.read_text(errors="replace")[-4000:]

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def engine_queue(settings):
    """A queue of the test's own, so no other worker takes its runs."""
    queue = f"engine-test-{uuid.uuid4().hex[:12]}"
    settings.ENGINE_QUEUE = queue
    return queue


@pytest.fixture
def start_worker(engine_queue, tmp_path):
    """Start workers on the test's queue; every one is stopped at the end of the test."""
    workers = []
    env = os.environ.copy()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "sandbox_portal.settings",
            "DATABASE_URL": _database_url(),
            # The same broker folder as this process, so what it queues reaches the worker.
            "VAR_DIR": str(settings.VAR_DIR),
            "ENGINE_QUEUE": engine_queue,
            "ENGINE_STALE_AFTER_SECONDS": str(STALE_AFTER_SECONDS),
            "CELERY_VISIBILITY_TIMEOUT": "5",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    else:
        env.pop("REDIS_URL", None)

    def start():
        worker = Worker(engine_queue, tmp_path / f"worker-{len(workers)}.log", env)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


class Listener:
    """A local HTTP server that counts the requests it gets (it should get none)."""

    def __init__(self):
        from tests.engine.helpers import FakeNode, result

        self.node = FakeNode(lambda request: result(request, "0x7a69"))
        self.url = self.node.url

    @property
    def requests(self):
        return self.node.requests

    def close(self):
        self.node.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def rpc_ok(url):
    try:
        return httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).is_success
    except httpx.HTTPError:
        return False
