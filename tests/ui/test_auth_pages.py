"""Logging in and out, password pages and the error pages."""

from django.core import mail
from django.urls import reverse

from tests.conftest import PASSWORD


def test_the_login_page_offers_a_password_reset(client, db):
    page = client.get(reverse("login")).content.decode()
    assert 'name="username"' in page and 'name="password"' in page
    assert reverse("password_reset") in page


def test_it_logs_in_and_lands_on_the_dashboard(client, people):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    page = client.get(reverse("dashboard")).content.decode()
    assert "Alice" in page
    assert "Log out" in page


def test_it_refuses_a_wrong_password_with_a_message(client, people):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "errorlist nonfield" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_logs_out_with_a_post(browser, people):
    client = browser(people.alice)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_the_password_reset_sends_a_link(client, people):
    response = client.post(reverse("password_reset"), {"email": "alice@example.test"})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Sandbox Portal: reset your password"
    assert "/accounts/password/reset/" in mail.outbox[0].body


def test_the_password_change_pages_render(browser, people):
    client = browser(people.alice)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-passphrase",
            "new_password2": "a-much-longer-passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200


def test_the_404_page_is_the_portals_own(browser, people):
    response = browser(people.alice).get("/cases/999999/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_the_navigation_depends_on_the_role(browser, people):
    firm = browser(people.alice).get(reverse("dashboard")).content.decode()
    officer = browser(people.olivia).get(reverse("dashboard")).content.decode()
    staff = browser(people.staff).get(reverse("dashboard")).content.decode()
    assert f'href="{reverse("firm-home")}"' in firm
    assert f'href="{reverse("queue")}"' not in firm
    assert f'href="{reverse("queue")}"' in officer
    assert f'href="{reverse("firm-home")}"' not in officer
    assert reverse("admin:index") in staff
    assert reverse("admin:index") not in officer


def test_the_500_page_needs_no_context():
    from django.template.loader import get_template

    html = get_template("500.html").render({})
    assert "Something went wrong" in html
