"""A real Celery worker process consumes the broker and writes to the database
the tests use: Redis and PostgreSQL when configured, else the filesystem broker
and the SQLite test database file."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from applications.tasks import ping
from sandbox_portal.audit.models import AuditEvent
from sandbox_portal.celery import app as celery_app

WAIT_SECONDS = 60


def _database_url():
    """The test database as a URL the worker's settings understand."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(db["NAME"])
        assert "memory" not in name, "the SQLite test database must be a file a worker can open"
        return f"sqlite:///{Path(name).resolve()}"
    if connection.vendor == "postgresql":
        from urllib.parse import quote

        credentials = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = db["HOST"] or "localhost"
        port = f":{db['PORT']}" if db["PORT"] else ""
        return f"postgres://{credentials}@{host}{port}/{db['NAME']}"
    pytest.fail(f"no worker URL for the {connection.vendor} database")


def _broker_folder_options(var_dir):
    """The filesystem broker's options with every folder moved under ``var_dir``,
    where the worker started with ``VAR_DIR=var_dir`` will look."""
    base = Path(settings.BROKER_DIR)
    options = {}
    for key, value in settings.CELERY_BROKER_TRANSPORT_OPTIONS.items():
        if isinstance(value, str) and Path(value).is_relative_to(base):
            value = var_dir / "broker" / Path(value).relative_to(base)
            value.mkdir(parents=True, exist_ok=True)
            value = str(value)
        options[key] = value
    assert options["data_folder_in"].startswith(str(var_dir))
    return options


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_runs_a_task_from_the_broker(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    # A queue of our own, so no other worker takes the task and ours takes no other.
    queue = f"core-test-{uuid.uuid4().hex[:12]}"
    marker = uuid.uuid4().hex
    env = os.environ.copy()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "sandbox_portal.settings",
            "DATABASE_URL": _database_url(),
            "VAR_DIR": str(var_dir),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
        transport_options = {}
    else:
        env.pop("REDIS_URL", None)
        transport_options = _broker_folder_options(var_dir)

    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
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
                f"{queue}@%h",
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
    try:
        with celery_app.connection_for_write(transport_options=transport_options) as conn:
            ping.apply_async(args=[marker], queue=queue, connection=conn)
        deadline = time.monotonic() + WAIT_SECONDS
        found = False
        while time.monotonic() < deadline:
            if AuditEvent.objects.filter(action="worker.ping", after__marker=marker).exists():
                found = True
                break
            if worker.poll() is not None:
                break
            time.sleep(0.5)
        assert found, (
            f"the worker wrote no 'worker.ping' event within {WAIT_SECONDS} s "
            f"(exit code {worker.poll()}):\n{log_path.read_text(errors='replace')[-4000:]}"
        )
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)

    event = AuditEvent.objects.get(action="worker.ping", after__marker=marker)
    assert event.actor_id is None
    from sandbox_portal.audit.services import verify_chain

    assert verify_chain().intact
