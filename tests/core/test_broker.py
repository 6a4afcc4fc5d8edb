"""The filesystem broker writes each message aside and renames it into place, so a
consumer never takes an empty or half-written message (which stopped workers)."""

import os
from queue import Empty

import pytest
from kombu import Connection

from sandbox_portal import broker


@pytest.fixture
def channel(tmp_path):
    options = {
        "data_folder_in": str(tmp_path / "queue"),
        "data_folder_out": str(tmp_path / "queue"),
        "processed_folder": str(tmp_path / "processed"),
        "store_processed": False,
    }
    for folder in ("queue", "processed"):
        (tmp_path / folder).mkdir()
    with Connection("portalfs://", transport_options=options) as connection:
        yield connection.channel(), tmp_path / "queue"


def test_the_portal_uses_it_when_no_redis_is_configured(settings):
    from celery import current_app

    expected = settings.REDIS_URL or "portalfs://"
    assert expected == settings.CELERY_BROKER_URL
    with current_app.connection_for_write() as connection:
        uses_it = connection.transport_cls == "portalfs"
        assert isinstance(connection.transport, broker.Transport) is uses_it
        assert uses_it is not bool(settings.REDIS_URL)


def test_a_message_is_invisible_until_it_is_whole(channel, monkeypatch):
    ch, folder = channel
    replace = os.replace
    while_writing = []

    def checked_replace(source, target):
        # Complete on disk under a name no consumer takes: the queue still looks empty.
        while_writing.append(sorted(p.name.endswith(".msg.part") for p in folder.iterdir()))
        with pytest.raises(Empty):
            ch._get("jobs")
        replace(source, target)

    monkeypatch.setattr(broker.os, "replace", checked_replace)
    ch._put("jobs", {"body": "probe case 7"})
    assert while_writing == [[True]]
    assert ch._get("jobs") == {"body": "probe case 7"}
    with pytest.raises(Empty):
        ch._get("jobs")


def test_every_message_is_delivered_once_and_queues_stay_apart(channel):
    ch, _folder = channel
    for i in range(5):
        ch._put("jobs", {"n": i})
    ch._put("other", {"n": "x"})
    # Ordered by the millisecond they were sent in, as kombu orders them.
    assert sorted(ch._get("jobs")["n"] for _ in range(5)) == [0, 1, 2, 3, 4]
    with pytest.raises(Empty):
        ch._get("jobs")
    assert ch._get("other") == {"n": "x"}


def test_a_failed_write_leaves_nothing_behind(channel, monkeypatch):
    ch, folder = channel

    def broken(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(broker.os, "replace", broken)
    with pytest.raises(Exception, match="Cannot add file"):
        ch._put("jobs", {"body": "lost"})
    assert list(folder.iterdir()) == []
