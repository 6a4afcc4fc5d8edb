"""The queue and the case list: fixed query counts, paging, filters and sorting."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications.models import Application, RequestForInformation, State

ROW = '">Bulk case '  # a row's title link
STATES = [State.SUBMITTED, State.UNDER_REVIEW, State.AWAITING_FIRM, State.EVALUATION]


def add_cases(people, project, count, start=0):
    """Cases straight through the ORM, each with an answered RFI (and every
    third with an open one), spread over case officers and states."""
    now = timezone.now()
    officers = [people.olivia, people.oscar, None]
    apps = Application.objects.bulk_create(
        Application(
            reference=f"SBX-BULK-{start + i:05d}",
            firm=project.firm,
            project=project,
            title=f"Bulk case {start + i}",
            state=STATES[i % len(STATES)],
            created_by=people.alice,
            case_officer=officers[i % len(officers)],
            submitted_at=now - datetime.timedelta(days=(i % 90) + 1),
        )
        for i in range(count)
    )
    rfis = []
    for i, app in enumerate(apps):
        raised = now - datetime.timedelta(days=(i % 30) + 1)
        rfis.append(
            RequestForInformation(
                application=app,
                question="Explain.",
                raised_by=people.olivia,
                raised_at=raised,
                answer="Done.",
                answered_by=people.alice,
                answered_at=raised + datetime.timedelta(days=1),
            )
        )
        if i % 3 == 0:
            rfis.append(
                RequestForInformation(
                    application=app, question="More?", raised_by=people.olivia, raised_at=now
                )
            )
    RequestForInformation.objects.bulk_create(rfis)
    return apps


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.parametrize(
    "query",
    ["", "?sort=clock", "?sort=-submitted", "?state=under_review&q=Bulk", "?unassigned=true"],
)
def test_the_queue_costs_the_same_queries_for_10_and_200_cases(people, project_a, browser, query):
    client = browser(people.olivia)
    url = reverse("queue") + query
    add_cases(people, project_a, 10)
    with_10, page = count_queries(client, url)
    assert "Bulk case" in page

    add_cases(people, project_a, 190, start=10)
    with_200, page = count_queries(client, url)

    assert "Bulk case" in page
    assert with_200 == with_10


def test_the_case_list_costs_the_same_queries_for_10_and_200_cases(people, project_a, browser):
    client = browser(people.alice)
    url = reverse("case-list")
    add_cases(people, project_a, 10)
    with_10, _ = count_queries(client, url)
    add_cases(people, project_a, 190, start=10)
    with_200, page = count_queries(client, url)
    assert with_200 == with_10
    assert "Page 1 of 8" in page


def test_the_queue_pages_25_cases_at_a_time(people, project_a, browser):
    add_cases(people, project_a, 30)
    client = browser(people.olivia)
    first = client.get(reverse("queue")).content.decode()
    second = client.get(reverse("queue") + "?page=2").content.decode()
    assert first.count(ROW) == 25
    assert second.count(ROW) == 5


def test_the_queue_filters_by_state_officer_and_search(people, project_a, browser):
    add_cases(people, project_a, 12)
    client = browser(people.olivia)
    page = client.get(reverse("queue") + "?state=evaluation").content.decode()
    assert page.count(ROW) == 3
    page = client.get(reverse("queue") + f"?case_officer={people.oscar.pk}").content.decode()
    assert page.count(ROW) == 4
    page = client.get(reverse("queue") + "?unassigned=true").content.decode()
    assert page.count(ROW) == 4
    page = client.get(reverse("queue") + "?q=Bulk+case+11").content.decode()
    assert page.count(ROW) == 1


def test_the_queue_sorts_by_submission(people, project_a, browser):
    add_cases(people, project_a, 5)
    client = browser(people.olivia)

    def order(query):
        page = client.get(reverse("queue") + query).content.decode()
        return [i for _, i in sorted((page.index(f"SBX-BULK-{i:05d}"), i) for i in range(5))]

    # Case i was submitted i + 1 days ago.
    assert order("?sort=submitted") == [4, 3, 2, 1, 0]
    assert order("?sort=-submitted") == [0, 1, 2, 3, 4]


def test_the_queue_sorts_by_the_clock_which_excludes_rfi_time(people, project_a, browser):
    older, newer = add_cases(people, project_a, 2)
    now = timezone.now()
    # The older case waited on the firm for most of its life; the newer one never did.
    Application.objects.filter(pk=older.pk).update(submitted_at=now - datetime.timedelta(days=28))
    Application.objects.filter(pk=newer.pk).update(submitted_at=now - datetime.timedelta(days=14))
    RequestForInformation.objects.filter(application=older).update(
        raised_at=now - datetime.timedelta(days=27), answered_at=now - datetime.timedelta(days=2)
    )
    RequestForInformation.objects.filter(answered_at__isnull=True).delete()
    client = browser(people.olivia)

    def first(query):
        page = client.get(reverse("queue") + query).content.decode()
        return older if page.index(older.reference) < page.index(newer.reference) else newer

    assert first("?sort=submitted") == older
    assert first("?sort=-clock") == newer  # the most working days on the clock
    assert first("?sort=clock") == older


def test_the_queue_survives_nonsense_in_its_query_string(people, project_a, browser):
    add_cases(people, project_a, 3)
    client = browser(people.olivia)
    for query in (
        "?case_officer=abc",
        "?state=nonsense",
        "?page=999",
        "?page=-1",
        "?sort=password",
        "?unassigned=maybe",
    ):
        response = client.get(reverse("queue") + query)
        assert response.status_code == 200, query
    page = client.get(reverse("queue") + "?state=nonsense").content.decode()
    assert "errorlist" in page


def test_the_case_list_filters_a_firm_users_own_cases(people, project_a, browser):
    add_cases(people, project_a, 8)
    page = browser(people.alice).get(reverse("case-list") + "?state=evaluation").content.decode()
    assert page.count(ROW) == 2
    assert 'name="case_officer"' not in page  # assignee filters are for regulators
