"""Journey: a regulator starts a technical test run of a case whose registered node is a
real Hardhat node; a real Celery worker runs it while the page follows its progress live
(htmx), and the results page shows the checks and the SVG charts."""

import json
import time

import pytest
from playwright.sync_api import expect

from applications.models import Node
from assessments.models import RunStatus, TestRun
from tests.conftest import advance

from .pages import open_case, open_tab

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Two quick L1 suites with small parameters.
PARAMETERS = {
    "block": {"blocks": 10, "observe_seconds": 2.0},
    "crypto": {"blocks": 20, "max_transactions": 20},
}
# A generous bound for the worker to start and the run to finish on a busy machine.
RUN_TIMEOUT_S = 120


@pytest.fixture
def live_case(people, submitted_a, hardhat):
    """Firm A's case in technical testing; its registered node is the Hardhat node."""
    app = advance(submitted_a, people, "technical_testing")
    Node.objects.filter(pk=app.nodes.get().pk).update(endpoint_url=hardhat.url)
    return app


def wait_for_the_run_to_finish(page, worker):
    """Until the page's progress bar reaches 100; fails early if the worker dies."""
    progress = page.locator("progress.run-progress")
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        try:
            expect(progress).to_have_attribute("value", "100", timeout=2_000)
            return
        except AssertionError:
            if worker.process.poll() is not None:
                pytest.fail(f"the engine worker exited ({worker.process.poll()}):\n{worker.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the run did not finish in {RUN_TIMEOUT_S} s; worker log:\n{worker.log()}"
                ) from None


def test_a_regulator_runs_the_technical_tests_and_follows_them_live(
    open_as, people, live_case, engine_worker
):
    page = open_as(people.olivia)
    open_case(page, live_case, via="Queue")
    open_tab(page, "Technical tier")
    page.get_by_role("link", name="Start a test run").click()

    # The plan's suites for an L2 payment case, narrowed to two quick ones.
    suites = page.locator("#field-suites")
    for label in ("Block structure (L1)", "Signatures and keys (L1)"):
        expect(suites.get_by_label(label)).to_be_checked()
    suites.get_by_label("Consensus across nodes (L1)").uncheck()
    suites.get_by_label("Payment latency, double spend, rollback (L2)").uncheck()
    expect(page.locator("#field-nodes").get_by_label("validator-1")).to_be_checked()
    page.get_by_label("Parameters").fill(json.dumps(PARAMETERS, indent=2))
    page.get_by_role("button", name="Start the run").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Technical test run")
    run = TestRun.objects.get(application=live_case)
    assert run.suites == ["block", "crypto"] and run.requested_by == people.olivia
    # The block suite alone observes the chain for 2 s: the page opens on an unfinished run,
    # which polls for its progress (htmx) rather than being reloaded.
    expect(page.locator("#run-live[hx-trigger]")).to_have_count(1)
    page.evaluate("window.journeyMarker = 'not reloaded'")

    wait_for_the_run_to_finish(page, engine_worker)
    expect(page.locator("#run-progress")).to_have_text("100%")
    expect(page.locator("#run-status")).to_have_text("Succeeded")
    expect(page.locator("#run-live[hx-trigger]")).to_have_count(0)
    assert page.evaluate("window.journeyMarker") == "not reloaded"

    # The results: each suite's checks and its server-drawn SVG charts.
    block = page.locator("#suite-block")
    expect(block).to_contain_text("parent_hash_linkage")
    expect(block.locator("svg").first).to_be_visible()
    expect(block.locator("svg").filter(has_text="Block intervals")).to_have_count(1)
    expect(page.locator("#suite-crypto svg").first).to_be_visible()
    assert page.locator("svg script").count() == 0

    run.refresh_from_db()
    assert (run.status, run.progress) == (RunStatus.SUCCEEDED, 100), engine_worker.log()
    assert set(run.suite_runs.values_list("suite", flat=True)) == {"block", "crypto"}
