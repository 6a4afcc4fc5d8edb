"""The run pages: the start form, the live run page, results with SVG charts, and who
sees what."""

import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from assessments import services, tasks
from assessments.models import RunStatus, TestRun
from tests.conftest import advance
from tests.conftest import login as log_in

from .conftest import QUICK_PARAMETERS, QUICK_SUITES


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(tasks, "enqueue", lambda *args, **kwargs: None)


def login(client, user):
    return log_in(client, user)


def start(app, actor):
    return services.start_run(
        app,
        actor=actor,
        suites=QUICK_SUITES,
        parameters=QUICK_PARAMETERS,
        node_ids=[n.pk for n in app.nodes.all()],
    )


def test_the_form_is_prefilled_from_the_plan(client, people, testing_a):
    response = login(client, people.olivia).get(reverse("run-new", args=[testing_a.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    # Firm A's payment project at L2: the L1 suites and payment.
    assert form.initial["suites"] == ["block", "crypto", "consensus", "payment"]
    assert form.initial["nodes"] == [n.pk for n in testing_a.nodes.all()]
    assert set(json.loads(form.initial["parameters"])) == {
        "block",
        "crypto",
        "consensus",
        "payment",
    }
    html = response.content.decode()
    assert re.search(r'value="block"[^>]*checked', html)
    assert not re.search(r'value="clearing"[^>]*checked', html)


def test_a_regulator_starts_a_run_from_the_form(client, people, testing_a):
    node = testing_a.nodes.get()
    response = login(client, people.olivia).post(
        reverse("run-new", args=[testing_a.pk]),
        {"suites": QUICK_SUITES, "nodes": [node.pk], "parameters": json.dumps(QUICK_PARAMETERS)},
    )
    run = TestRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("run-detail", args=[run.pk])
    assert run.requested_by == people.olivia
    assert run.parameters["block"]["observe_seconds"] == 2.0


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ('{"block": {"blokcs": 5}}', "blokcs"),
        ('{"block": {"blocks": "five"}}', "blocks must be an integer"),
        ('{"block": ', "not valid JSON"),
        ('{"warp": {}}', "unknown suite warp"),
    ],
)
def test_the_form_names_a_bad_parameter_and_starts_nothing(
    client, people, testing_a, parameters, expected
):
    response = login(client, people.olivia).post(
        reverse("run-new", args=[testing_a.pk]),
        {"suites": ["block"], "nodes": [testing_a.nodes.get().pk], "parameters": parameters},
    )
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert not TestRun.objects.exists()


def test_the_form_refuses_a_firm_user_and_hides_other_firms_cases(client, people, testing_a):
    url = reverse("run-new", args=[testing_a.pk])
    assert login(client, people.alice).get(url).status_code == 403
    assert login(client, people.bella).get(url).status_code == 404
    assert login(client, people.ursula).get(url).status_code == 404


def test_the_form_answers_409_while_the_case_is_not_being_tested(client, people, submitted_a):
    response = login(client, people.olivia).get(reverse("run-new", args=[submitted_a.pk]))
    assert response.status_code == 409


def test_a_queued_run_page_polls_and_offers_cancel_to_regulators(client, people, testing_a):
    run = start(testing_a, people.olivia)
    page = login(client, people.olivia).get(reverse("run-detail", args=[run.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'hx-get="{reverse("run-live", args=[run.pk])}"' in html
    assert 'hx-trigger="every 1s"' in html
    assert '<progress class="run-progress" max="100" value="0"' in html
    assert reverse("run-cancel", args=[run.pk]) in html
    live = client.get(reverse("run-live", args=[run.pk]))
    assert live.status_code == 200 and b"every 1s" in live.content

    response = client.post(reverse("run-cancel", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    html = client.get(reverse("run-live", args=[run.pk])).content.decode()
    assert "every 1s" not in html, "a finished run stops polling"
    assert "Cancelled by olivia" in html
    assert client.post(reverse("run-cancel", args=[run.pk])).status_code == 409


def test_the_firm_and_its_auditor_read_a_run_but_cannot_cancel_it(client, people, testing_a):
    run = start(testing_a, people.olivia)
    for who in (people.alice, people.amir, people.audrey):
        page = login(client, who).get(reverse("run-detail", args=[run.pk]))
        assert page.status_code == 200
        assert reverse("run-cancel", args=[run.pk]) not in page.content.decode()
    log_in(client, people.alice)
    assert client.post(reverse("run-cancel", args=[run.pk])).status_code == 403
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED


@pytest.mark.parametrize("who", ["bella", "ursula"])
def test_a_run_of_another_firms_case_is_not_found(client, people, testing_a, who):
    run = start(testing_a, people.olivia)
    login(client, getattr(people, who))
    for name in ("run-detail", "run-live"):
        assert client.get(reverse(name, args=[run.pk])).status_code == 404
    assert client.post(reverse("run-cancel", args=[run.pk])).status_code == 404
    assert client.get(reverse("case-test-runs", args=[testing_a.pk])).status_code == 404


def test_the_technical_tab_lists_the_runs_and_offers_a_start_to_regulators(
    client, people, testing_a
):
    run = start(testing_a, people.olivia)
    login(client, people.olivia)
    tab = client.get(
        reverse("case-tab", args=[testing_a.pk, "technical"]), headers={"HX-Request": "true"}
    )
    assert reverse("case-test-runs", args=[testing_a.pk]) in tab.content.decode()
    runs = client.get(reverse("case-test-runs", args=[testing_a.pk])).content.decode()
    assert reverse("run-detail", args=[run.pk]) in runs
    assert "Start a test run" in runs and reverse("run-new", args=[testing_a.pk]) in runs
    runs = login(client, people.alice).get(reverse("case-test-runs", args=[testing_a.pk]))
    assert reverse("run-detail", args=[run.pk]) in runs.content.decode()
    assert "Start a test run" not in runs.content.decode()


def test_there_is_no_start_button_once_the_case_is_recommended(client, people, submitted_a):
    closed = advance(submitted_a, people, "recommended")
    runs = login(client, people.olivia).get(reverse("case-test-runs", args=[closed.pk]))
    assert runs.status_code == 200
    assert "Start a test run" not in runs.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_finished_run_shows_its_checks_and_svg_charts(client, people, live_case):
    run = start(live_case, people.olivia)
    assert tasks.execute_test_run(run.pk, people.olivia.pk) == "succeeded"
    page = login(client, people.alice).get(reverse("run-detail", args=[run.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "hx-trigger" not in html.split('id="run-live"', 1)[1].split(">", 1)[0]
    assert "parent_hash_linkage" in html and "monotonic_timestamps" in html
    assert 'id="suite-block"' in html and 'id="suite-crypto"' in html
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert svgs, "the block suite's results are drawn"
    for svg in svgs:
        ET.fromstring(svg)  # well-formed
    assert "Block intervals" in html
    assert "<script" not in "".join(svgs)


def test_polling_a_running_run_costs_a_few_queries(
    client, people, testing_a, django_assert_max_num_queries
):
    run = start(testing_a, people.olivia)
    log_in(client, people.olivia)
    with django_assert_max_num_queries(6):
        assert client.get(reverse("run-live", args=[run.pk])).status_code == 200
