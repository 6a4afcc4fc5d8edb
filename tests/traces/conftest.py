import pytest

from assessments.traces import services, tasks
from tests.conftest import advance


@pytest.fixture
def testing_a(people, submitted_a):
    """Firm A's case in technical testing."""
    return advance(submitted_a, people, "technical_testing")


@pytest.fixture
def queued(monkeypatch):
    """The checks sent to the engine queue, instead of a broker: (args, queue)."""
    sent = []

    def apply_async(args=None, kwargs=None, queue=None, **options):
        sent.append((tuple(args or ()), queue))

    monkeypatch.setattr(tasks.check_trace_upload, "apply_async", apply_async)
    return sent


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(services, "_enqueue", lambda upload_id: None)
