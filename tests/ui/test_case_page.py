"""The case page: header, actions, tabs with and without htmx, and the small pages around it."""

import pytest
from django.urls import reverse

from applications.models import Zone
from applications.services import firms

from .pages import action_url, case_url

TABS = [
    "overview",
    "eligibility",
    "physical",
    "technical",
    "documents",
    "rfis",
    "decision",
    "reports",
    "timeline",
]


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_renders_for_the_firm_and_the_regulator(people, in_sandbox_a, browser, tab):
    for who in ("alice", "olivia", "staff"):
        response = browser(getattr(people, who)).get(case_url(in_sandbox_a, tab))
        assert response.status_code == 200
        assert 'class="active" aria-current="page">' in response.content.decode()


def test_the_header_shows_the_case_and_orders_the_actions(people, submitted_a, browser):
    page = browser(people.olivia).get(case_url(submitted_a)).content.decode()
    assert submitted_a.reference in page
    assert "Firm A" in page
    assert "badge state-submitted" in page
    assert "unassigned" in page
    assert "/60 days" in page
    primary = page.index(action_url(submitted_a, "start_screening"))
    secondary = page.index(action_url(submitted_a, "assign_auditor"))
    assert page.index('class="button-row secondary"') < secondary
    assert primary < page.index('class="button-row secondary"')


def test_a_tab_loads_as_a_fragment_for_htmx(people, submitted_a, browser):
    client = browser(people.alice)
    url = reverse("case-tab", args=[submitted_a.pk, "documents"])

    fragment = client.get(url, HTTP_HX_REQUEST="true")

    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert "<html" not in body
    assert 'id="case-tabs"' in body
    assert "paper.pdf" in body
    assert f'hx-get="{reverse("case-tab", args=[submitted_a.pk, "rfis"])}"' in body
    assert f'hx-push-url="{case_url(submitted_a, "rfis")}"' in body


def test_a_tab_url_without_htmx_goes_to_the_full_page(people, submitted_a, browser):
    url = reverse("case-tab", args=[submitted_a.pk, "documents"])
    response = browser(people.alice).get(url)
    assert response.status_code == 302
    assert response["Location"] == case_url(submitted_a, "documents")


def test_the_documents_tab_lists_hashes_and_links(people, submitted_a, browser):
    document = submitted_a.documents.get()
    page = browser(people.olivia).get(case_url(submitted_a, "documents")).content.decode()
    assert document.sha256 in page
    assert reverse("document-download", args=[document.pk]) in page
    assert reverse("document-upload", args=[submitted_a.pk]) in page


def test_the_auditor_cannot_upload(people, submitted_a, browser):
    page = browser(people.audrey).get(case_url(submitted_a, "documents")).content.decode()
    assert reverse("document-upload", args=[submitted_a.pk]) not in page


def test_the_physical_tab_shows_the_firms_station(people, submitted_a, node_a, browser):
    zone = Zone.objects.create(name="Harbour FTZ", kind="free_trade", policies="Data stays here.")
    firms.save_zone_registration(
        people.firm_a,
        actor=people.alice,
        fields={
            "zone": zone,
            "registered_address": "1 Quay",
            "registration_number": "FTZ-7",
            "registered_on": "2025-01-02",
        },
    )
    firms.save_personnel(
        people.firm_a, actor=people.alice, fields={"name": "Ada", "role": "SRE", "on_site": True}
    )
    firms.save_node(
        people.firm_a,
        actor=people.alice,
        fields={"label": "spare", "endpoint_url": "http://127.0.0.1:9545"},
    )
    page = browser(people.audrey).get(case_url(submitted_a, "physical")).content.decode()
    assert "Harbour FTZ" in page and "FTZ-7" in page
    assert "Ada" in page and "On site" in page
    assert "validator-1" in page and "spare" in page
    assert page.count("Registered for testing") == 1


def test_the_technical_tab_shows_all_three_tiers(people, submitted_a, browser):
    page = browser(people.olivia).get(case_url(submitted_a, "technical")).content.decode()
    for tier in ("Institutional", "Technical", "Physical"):
        assert tier in page
    assert "tier-in_progress" in page  # institutional, since submission
    assert "tier-not_started" in page
    assert "L2: protocol and application" in page


def test_the_timeline_shows_who_did_what_and_why(people, submitted_a, browser):
    page = browser(people.olivia).get(case_url(submitted_a, "timeline")).content.decode()
    assert "Submitted the application" in page
    assert "Gave an auditor access" in page
    assert "Alice" in page
    assert '<span class="from">Draft</span>' in page
    assert '<span class="to">Submitted</span>' in page


def test_the_action_page_describes_the_action(people, submitted_a, browser):
    response = browser(people.alice).get(action_url(submitted_a, "withdraw"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Withdraw the application. It stays on record." in page
    assert 'name="reason"' in page
    assert "btn-danger" in page


def test_zones_are_listed_for_every_user(people, browser):
    Zone.objects.create(name="Tech Park North", kind="tech_park", policies="Open 24/7.")
    for who in ("alice", "olivia", "audrey"):
        page = browser(getattr(people, who)).get(reverse("zones")).content.decode()
        assert "Tech Park North" in page and "Open 24/7." in page


def test_the_case_list_shows_the_state_badge_and_clock(people, submitted_a, browser):
    page = browser(people.alice).get(reverse("case-list")).content.decode()
    assert submitted_a.reference in page
    assert "badge state-submitted" in page
    assert "/60 days" in page


def test_the_timeline_names_the_tier_and_shows_codes_in_words(people, in_sandbox_a, browser):
    page = browser(people.olivia).get(case_url(in_sandbox_a, "timeline")).content.decode()
    assert "Set the institutional tier&#x27;s status" in page
    assert '<span class="to">Satisfied</span>' in page
    assert "Appoint a compliance officer" in page
    assert "admit_with_conditions" not in page


def test_the_recommendation_is_shown_to_regulators_but_never_to_the_firm(
    people, submitted_a, browser
):
    from tests.conftest import advance

    app = advance(submitted_a, people, "recommended")
    url = case_url(app, tab="decision")
    regulator_page = browser(people.victor).get(url).content.decode()
    firm_page = browser(people.alice).get(url).content.decode()
    assert "Good." in regulator_page  # the officer's rationale
    assert "Good." not in firm_page
    assert "internal" in firm_page


def test_the_firms_timeline_leaves_out_the_regulators_deliberation(people, submitted_a, browser):
    from tests.conftest import advance

    app = advance(submitted_a, people, "recommended")
    url = case_url(app, tab="timeline")
    assert "Good." in browser(people.olivia).get(url).content.decode()
    firm_page = browser(people.alice).get(url).content.decode()
    assert "Good." not in firm_page
    assert "Submitted the application" in firm_page
