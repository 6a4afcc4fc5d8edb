"""Fault tests: real services failing under the portal (a Redis restarted mid-run, a
database connection dropped mid-request, two approvers deciding at once).

Fixtures of the test-run tests are reused: a Hardhat node with signed transfers, Firm A's
case in technical testing pointed at it, and a Celery worker process helper.
"""

import os
import shutil
import subprocess
import time
import uuid

import pytest
import redis
from django.conf import settings

from tests.core.test_worker import _database_url
from tests.engine.conftest import free_port
from tests.runs.conftest import (  # noqa: F401 (fixtures used by the tests here)
    STALE_AFTER_SECONDS,
    Worker,
    hardhat,
    live_case,
    testing_a,
)


class RedisServer:
    """A private redis-server on a free port, without persistence (as CI runs it), that a
    test may kill and start again on the same port."""

    def __init__(self, directory):
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.starts = 0

    def start(self):
        self.starts += 1
        log = open(self.directory / f"redis-{self.starts}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return self
            except redis.RedisError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(
            f"redis-server did not answer on port {self.port}:\n"
            + (self.directory / f"redis-{self.starts}.log").read_text(errors="replace")[-2000:]
        )

    def kill(self):
        """The server dies at once (SIGKILL): every queued or unacknowledged message goes."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of the test's own (never the shared one on 6379, which other runs
    use). Without the binary the test fails and says so when the portal is configured
    for Redis (as in CI), and is skipped with the reason otherwise."""
    if shutil.which("redis-server") is None:
        message = (
            "redis-server is not installed, so the Redis fault test cannot run: install it "
            "(Debian: apt-get install redis-server)"
        )
        if settings.REDIS_URL:
            pytest.fail(message, pytrace=False)
        pytest.skip(message + "; the portal here uses the filesystem broker (no REDIS_URL)")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory).start()
    yield server
    server.stop()


@pytest.fixture
def redis_worker(private_redis, tmp_path, settings):
    """``redis_worker()`` starts a Celery worker on a queue of the test's own, with the
    private Redis as its broker and the test database as its database."""
    queue = f"engine-fault-{uuid.uuid4().hex[:12]}"
    settings.ENGINE_QUEUE = queue
    env = os.environ.copy()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "sandbox_portal.settings",
            "DATABASE_URL": _database_url(),
            "VAR_DIR": str(settings.VAR_DIR),
            "REDIS_URL": private_redis.url,
            "ENGINE_QUEUE": queue,
            "ENGINE_STALE_AFTER_SECONDS": str(STALE_AFTER_SECONDS),
            "CELERY_VISIBILITY_TIMEOUT": "5",
            "PYTHONUNBUFFERED": "1",
        }
    )
    workers = []

    def start():
        worker = Worker(queue, tmp_path / f"worker-{len(workers)}.log", env)
        workers.append(worker)
        return worker

    start.queue = queue
    yield start
    for worker in workers:
        worker.stop()
