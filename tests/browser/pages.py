"""What a person does on the portal's pages, in the journeys' words."""

import re

from playwright.sync_api import expect


def open_case(page, app, *, via):
    """Open the case from the main navigation's ``via`` list (Queue, Cases or Dashboard)."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=via).click()
    page.get_by_role("link", name=app.reference, exact=True).first.click()
    expect(page.locator("#case-title")).to_have_text(app.title)


def expect_state(page, label):
    """The case page's header shows the case in the state ``label``."""
    expect(page.locator(".case-header .case-meta .badge").first).to_have_text(label)


def case_action(page, label):
    """Follow the case page's ``label`` action to its form."""
    page.get_by_label("Actions").get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(label)


def confirm_action(page, label):
    """Submit the action form open on the page (its button carries the action's label)."""
    page.get_by_role("button", name=label, exact=True).click()


def take_action(page, label):
    """An action without input: open its form and submit it."""
    case_action(page, label)
    confirm_action(page, label)


def open_tab(page, label):
    """Switch the case page to the tab ``label`` (htmx swaps the tab in place)."""
    page.get_by_role("navigation", name="Case sections").get_by_role("link", name=label).click()
    expect(
        page.get_by_role("navigation", name="Case sections").locator("a[aria-current='page']")
    ).to_have_text(label)


def expect_message(page, text):
    expect(page.locator(".messages")).to_contain_text(re.compile(re.escape(text)))


def expect_form_error(page, text):
    expect(page.locator(".errorlist").filter(has_text=text).first).to_be_visible()
