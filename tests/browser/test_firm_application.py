"""Journey: a firm admin drafts an application, completes it, uploads a white paper and
submits it, all through the pages."""

import datetime
import hashlib

import pytest
from playwright.sync_api import expect

from applications.demo.pdf import pdf_bytes
from applications.models import Application, State

from .pages import case_action, confirm_action, expect_form_error, expect_message, expect_state

pytestmark = pytest.mark.django_db(transaction=True)

ANSWERS = {
    "In scope": "A payment service regulated under the payment services rules.",
    "Genuine innovation": "Settlement on a permissioned chain in under a second.",
    "Consumer benefit": "Cheaper and faster cross-border payments for small firms.",
    "Readiness for testing": "The system runs on three validators in our data centre.",
    "Need for sandbox support": "The settlement model needs a restricted authorisation.",
}


def test_a_firm_drafts_completes_documents_and_submits_an_application(
    open_as, people, project_a, node_a, upload_file
):
    page = open_as(people.alice)

    # A first sitting: the essentials only, saved as a draft.
    page.get_by_role("link", name="New application").click()
    page.get_by_label("Project").select_option(label=str(project_a))
    page.get_by_label("Title").fill("Instant cross-border payments")
    page.get_by_label("Summary").fill("Payments settled on a permissioned chain.")
    page.get_by_label("Target level").select_option(value="2")
    page.get_by_label("validator-1").check()
    page.get_by_role("button", name="Save draft").click()
    expect_message(page, "is saved. Submit it when ready.")
    expect_state(page, "Draft")
    app = Application.objects.get(firm=people.firm_a)
    assert (app.title, app.target_level, app.state) == ("Instant cross-border payments", 2, "draft")
    assert list(app.nodes.all()) == [node_a]

    # Submitting an incomplete draft is refused and says what is missing.
    case_action(page, "Submit application")
    confirm_action(page, "Submit application")
    expect_form_error(page, "Complete these before submitting")
    expect(page.locator(".errorlist")).to_contain_text("eligibility answer: In scope")
    app.refresh_from_db()
    assert app.state == State.DRAFT and app.submitted_at is None

    # A second sitting: the test plan, the exit strategy and the eligibility answers.
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("link", name="Edit application").click()
    today = datetime.date.today()
    page.get_by_label("Hypothesis").fill("Settlement in under a second at lower cost.")
    page.get_by_label("Success metrics").fill("p99 latency under 1 s; no lost payments.")
    page.get_by_label("Test start").fill((today + datetime.timedelta(days=30)).isoformat())
    page.get_by_label("Test end").fill((today + datetime.timedelta(days=200)).isoformat())
    page.get_by_label("Customer cap").fill("500")
    page.get_by_label("Exit and transition strategy").fill("Apply for full authorisation.")
    for label, answer in ANSWERS.items():
        page.get_by_label(label, exact=True).fill(answer)
    page.get_by_role("button", name="Save changes").click()
    expect_message(page, f"{app.reference} is saved.")
    app.refresh_from_db()
    assert app.hypothesis.startswith("Settlement") and app.customer_cap == 500
    assert sorted(e.firm_answer for e in app.eligibility.all()) == sorted(ANSWERS.values())

    # The white paper, a real PDF, is stored under its SHA-256.
    paper = pdf_bytes(
        "PayChain white paper",
        ["Settlement of cross-border payments on a permissioned chain.", "Design and risks."],
    )
    page.get_by_role("link", name="Documents").click()
    page.get_by_role("link", name="Upload a document").click()
    page.get_by_label("Kind").select_option(label="White paper")
    page.get_by_label("File").set_input_files(upload_file("paychain-white-paper.pdf", paper))
    page.get_by_role("button", name="Upload").click()
    digest = hashlib.sha256(paper).hexdigest()
    expect_message(page, f"'paychain-white-paper.pdf' is stored (SHA-256 {digest}).")
    document = app.documents.get()
    assert (document.kind, document.sha256, document.size) == ("white_paper", digest, len(paper))
    with document.file.open("rb") as stored:
        assert stored.read() == paper

    # Submitted: the regulator's clock starts.
    case_action(page, "Submit application")
    confirm_action(page, "Submit application")
    expect_message(page, f"Submit application: done for {app.reference}.")
    expect_state(page, "Submitted")
    expect(page.get_by_role("link", name="Edit application")).to_have_count(0)
    app.refresh_from_db()
    assert app.state == State.SUBMITTED and app.submitted_at is not None
