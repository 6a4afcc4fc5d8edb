"""Creating and editing an application through its form."""

import datetime

import pytest
from django.urls import reverse

from applications.models import Application, Criterion, EligibilityAnswer
from applications.services import lifecycle
from sandbox_portal.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


def full_form(project, node, **overrides):
    data = {
        "project": project.pk,
        "title": "Instant cross-border payments",
        "summary": "Payments settled on a permissioned chain.",
        "target_level": "2",
        "hypothesis": "Settlement in under a second at lower cost.",
        "success_metrics": "p99 latency under 1 s; no lost payments.",
        "test_start": (TODAY + datetime.timedelta(days=30)).isoformat(),
        "test_end": (TODAY + datetime.timedelta(days=200)).isoformat(),
        "customer_cap": "500",
        "transaction_cap": "1000.00",
        "aggregate_cap": "250000.00",
        "customer_selection": "Existing business customers who opt in.",
        "safeguard_consent": "Written consent before onboarding.",
        "safeguard_disclosure": "Customers are told the service is in the sandbox.",
        "safeguard_complaints": "Complaints answered within 8 weeks.",
        "safeguard_compensation": "Losses refunded in full.",
        "safeguard_capital": "GBP 2m ring-fenced.",
        "relief_requested": ["waiver", "guidance"],
        "relief_detail": "Waiver of the safeguarding timing rule.",
        "exit_strategy": "Apply for full authorisation.",
        "nodes": [node.pk],
        **{f"eligibility_{c.value}": f"Our answer on {c.label}." for c in Criterion},
    }
    data.update(overrides)
    return data


def test_it_creates_an_application_with_all_its_content(people, as_user, project_a, node_a):
    client = as_user("alice")
    page = client.get(reverse("application-new"))
    assert page.status_code == 200
    for heading in [
        "The project",
        "Test plan",
        "Safeguards",
        "Relief and exit",
        "Eligibility answers",
        "Nodes to be tested",
    ]:
        assert heading.encode() in page.content
    response = client.post(reverse("application-new"), full_form(project_a, node_a))
    app = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("case-detail", args=[app.pk])
    assert app.state == "draft"
    assert app.firm == people.firm_a
    assert app.created_by == people.alice
    assert app.target_level == 2
    assert app.customer_cap == 500
    assert str(app.aggregate_cap) == "250000.00"
    assert app.relief_requested == ["waiver", "guidance"]
    assert app.safeguard_capital == "GBP 2m ring-fenced."
    assert list(app.nodes.all()) == [node_a]
    answers = dict(app.eligibility.values_list("criterion", "firm_answer"))
    assert answers["readiness"] == "Our answer on Readiness for testing."
    assert app.tier_statuses.count() == 3
    assert AuditEvent.objects.filter(action="application.create", application_id=app.pk).exists()


def test_it_offers_only_the_firms_own_projects_and_nodes(people, as_user, project_a, node_a):
    from applications.services import firms

    other = firms.save_project(
        people.firm_b, actor=people.bella, fields={"name": "B-Chain", "category": "trading"}
    )
    other_node = firms.save_node(
        people.firm_b,
        actor=people.bella,
        fields={"label": "b-node", "endpoint_url": "https://b-node.firm-b.test:8545"},
    )
    client = as_user("alice")
    page = client.get(reverse("application-new"))
    assert b"B-Chain" not in page.content
    assert b"b-node" not in page.content
    response = client.post(reverse("application-new"), full_form(other, other_node, title="Hijack"))
    assert response.status_code == 400
    assert set(response.context["form"].errors) >= {"project", "nodes"}
    assert not Application.objects.exists()


def test_it_says_when_the_firm_has_no_project_yet(people, as_user):
    response = as_user("alice").get(reverse("application-new"))
    assert response.status_code == 200
    assert b"has no project yet" in response.content
    assert reverse("project-new").encode() in response.content


def test_it_refuses_a_test_that_ends_before_it_starts(people, as_user, project_a, node_a):
    data = full_form(
        project_a,
        node_a,
        test_start=(TODAY + datetime.timedelta(days=60)).isoformat(),
        test_end=(TODAY + datetime.timedelta(days=10)).isoformat(),
    )
    before = (Application.objects.count(), EligibilityAnswer.objects.count())
    response = as_user("alice").post(reverse("application-new"), data)
    assert response.status_code == 400
    assert b"The test must end after it starts." in response.content
    assert (Application.objects.count(), EligibilityAnswer.objects.count()) == before


def test_it_refuses_the_new_application_page_to_non_firm_users(people, as_user, project_a):
    for name in ["olivia", "victor", "audrey", "staff"]:
        assert as_user(name).get(reverse("application-new")).status_code == 403
    response = as_user("olivia").post(reverse("application-new"), {"project": project_a.pk})
    assert response.status_code == 403
    assert not Application.objects.exists()


def test_it_edits_a_draft(people, as_user, draft_a, node_a):
    client = as_user("amir")
    page = client.get(reverse("application-edit", args=[draft_a.pk]))
    assert page.status_code == 200
    assert b"Our answer on In scope." in page.content
    data = full_form(draft_a.project, node_a, title="Faster payments", customer_cap="800")
    data["eligibility_in_scope"] = "A payment service under the PSRs."
    del data["project"]
    response = client.post(reverse("application-edit", args=[draft_a.pk]), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("case-detail", args=[draft_a.pk])
    draft_a.refresh_from_db()
    assert (draft_a.title, draft_a.customer_cap) == ("Faster payments", 800)
    assert (
        draft_a.eligibility.get(criterion="in_scope").firm_answer
        == "A payment service under the PSRs."
    )
    event = AuditEvent.objects.filter(action="application.update").last()
    assert event.after["title"] == "Faster payments"
    assert event.actor == people.amir


def test_it_keeps_a_draft_unchanged_when_the_edit_is_invalid(as_user, draft_a, node_a):
    data = full_form(draft_a.project, node_a, title="Changed", test_end="2000-01-01")
    response = as_user("alice").post(reverse("application-edit", args=[draft_a.pk]), data)
    assert response.status_code == 400
    assert b"The test must end after it starts." in response.content
    draft_a.refresh_from_db()
    assert draft_a.title == "Instant cross-border payments"
    assert not AuditEvent.objects.filter(action="application.update").exists()


def test_it_refuses_to_edit_a_submitted_case(people, as_user, submitted_a, node_a):
    client = as_user("alice")
    response = client.get(reverse("application-edit", args=[submitted_a.pk]))
    assert response.status_code == 403
    assert b"can be edited only as a draft" in response.content
    data = full_form(submitted_a.project, node_a, title="Changed after submission")
    response = client.post(reverse("application-edit", args=[submitted_a.pk]), data)
    assert response.status_code == 403
    submitted_a.refresh_from_db()
    assert submitted_a.title == "Instant cross-border payments"


def test_it_lets_the_firm_edit_while_answering_an_rfi(people, as_user, submitted_a, node_a):
    app = lifecycle.start_screening(submitted_a, actor=people.olivia)
    app = lifecycle.accept_for_review(app, actor=people.olivia)
    app = lifecycle.request_information(app, actor=people.olivia, question="Your capital?")
    data = full_form(app.project, node_a, safeguard_capital="GBP 5m.")
    response = as_user("alice").post(reverse("application-edit", args=[app.pk]), data)
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.safeguard_capital == "GBP 5m."


def test_it_refuses_the_edit_page_to_a_regulator_who_can_see_the_case(as_user, submitted_a):
    response = as_user("olivia").get(reverse("application-edit", args=[submitted_a.pk]))
    assert response.status_code == 403
    assert b"Only the firm&#x27;s own users" in response.content


def test_it_hides_firm_a_applications_from_firm_b(as_user, draft_a, node_a):
    client = as_user("bella")
    assert client.get(reverse("application-edit", args=[draft_a.pk])).status_code == 404
    data = full_form(draft_a.project, node_a, title="Defaced")
    assert client.post(reverse("application-edit", args=[draft_a.pk]), data).status_code == 404
    draft_a.refresh_from_db()
    assert draft_a.title == "Instant cross-border payments"


def test_it_hides_a_draft_from_an_auditor(as_user, draft_a):
    assert as_user("ursula").get(reverse("application-edit", args=[draft_a.pk])).status_code == 404


def test_it_sends_anonymous_visitors_to_log_in(client, draft_a):
    for url in [reverse("application-new"), reverse("application-edit", args=[draft_a.pk])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
