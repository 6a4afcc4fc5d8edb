from io import StringIO

import pytest
from django.core.management import call_command


@pytest.fixture
def demo(db, monkeypatch):
    """The demo, loaded through ``manage.py load_demo`` with the default chain port."""
    monkeypatch.delenv("CHAIN_PORT", raising=False)
    call_command("load_demo", stdout=StringIO())
