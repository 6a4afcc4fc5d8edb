"""Who may not see or do what: 401, 403, 404, 405 and 409, each leaving the case as it was."""

from applications.models import Application, Decision, State
from applications.services import lifecycle
from tests.conftest import advance

from .helpers import API, action_names, action_url, case_url, database_state


def test_it_refuses_anonymous_callers_with_401_and_a_token_challenge(client_for, submitted_a):
    response = client_for(None).get(f"{API}/applications/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert client_for(None).get(case_url(submitted_a)).status_code == 401


def test_it_refuses_a_bad_token(client_for, submitted_a):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get(f"{API}/applications/").status_code == 401


def test_it_refuses_an_action_the_role_cannot_take_with_403(client_for, submitted_a):
    before = database_state()
    response = client_for("alice").post(action_url(submitted_a, "start_screening"), {})
    assert response.status_code == 403
    assert "cannot take the action 'Start screening'" in response.json()["detail"]
    assert database_state() == before


def test_it_refuses_a_member_withdrawing_what_only_the_admin_may(client_for, submitted_a):
    before = database_state()
    response = client_for("amir").post(
        action_url(submitted_a, "withdraw"), {"reason": "Changed our mind."}, format="json"
    )
    assert response.status_code == 403
    assert database_state() == before
    assert "withdraw" not in action_names(client_for("amir").get(case_url(submitted_a, "actions/")))
    assert "withdraw" in action_names(client_for("alice").get(case_url(submitted_a, "actions/")))


def test_it_hides_another_firms_case_behind_404(client_for, submitted_a):
    bella = client_for("bella")
    before = database_state()
    assert bella.get(case_url(submitted_a)).status_code == 404
    assert bella.get(case_url(submitted_a, "actions/")).status_code == 404
    withdraw = bella.post(action_url(submitted_a, "withdraw"), {"reason": "x"}, format="json")
    assert withdraw.status_code == 404
    assert bella.patch(case_url(submitted_a), {"title": "Mine"}, format="json").status_code == 404
    assert submitted_a.reference not in str(bella.get(f"{API}/applications/").content)
    assert database_state() == before


def test_it_hides_a_firms_draft_from_regulators(client_for, draft_a):
    assert client_for("olivia").get(case_url(draft_a)).status_code == 404


def test_it_refuses_the_recommender_deciding_the_case_four_eyes(client_for, people, submitted_a):
    app = advance(submitted_a, people, "evaluation")
    victor = client_for("victor")
    recommend = victor.post(
        action_url(app, "recommend"),
        {"recommendation": "admit", "rationale": "Strong case."},
        format="json",
    )
    assert recommend.status_code == 200, recommend.content
    assert "decide" not in action_names(victor.get(case_url(app, "actions/")))
    assert "decide" in action_names(client_for("vera").get(case_url(app, "actions/")))

    before = database_state()
    response = victor.post(
        action_url(app, "decide"), {"outcome": "admit", "rationale": "Mine."}, format="json"
    )
    assert response.status_code == 403
    assert "Four-eyes" in response.json()["detail"]
    assert database_state() == before
    assert Application.objects.get(pk=app.pk).state == State.RECOMMENDED
    assert not Decision.objects.filter(application=app).exists()

    other = client_for("vera").post(
        action_url(app, "decide"), {"outcome": "admit", "rationale": "Agreed."}, format="json"
    )
    assert other.status_code == 200
    assert other.json()["state"] == State.ADMITTED


def test_it_answers_409_to_a_transition_the_state_forbids(client_for, submitted_a):
    before = database_state()
    response = client_for("olivia").post(action_url(submitted_a, "send_to_evaluation"), {})
    assert response.status_code == 409
    assert "submitted" in response.json()["detail"]
    again = client_for("alice").post(action_url(submitted_a, "submit"), {})
    assert again.status_code == 409
    assert database_state() == before
    assert Application.objects.get(pk=submitted_a.pk).state == State.SUBMITTED


def test_it_answers_409_to_editing_a_submitted_case(client_for, submitted_a):
    before = database_state()
    response = client_for("alice").patch(case_url(submitted_a), {"title": "New"}, format="json")
    assert response.status_code == 409
    assert database_state() == before


def test_it_refuses_a_regulator_editing_a_firms_content(client_for, people, submitted_a):
    app = advance(submitted_a, people, "under_review")
    lifecycle.request_information(app, actor=people.olivia, question="More detail?")
    before = database_state()
    response = client_for("olivia").patch(case_url(app), {"title": "Edited"}, format="json")
    assert response.status_code == 403
    assert database_state() == before


def test_it_lets_the_firm_edit_while_answering_an_rfi(client_for, people, submitted_a):
    app = advance(submitted_a, people, "under_review")
    lifecycle.request_information(app, actor=people.olivia, question="Caps?")
    response = client_for("amir").patch(
        case_url(app), {"customer_cap": 250, "eligibility": {"readiness": "Ready."}}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["customer_cap"] == 250
    readiness = [e for e in response.json()["eligibility"] if e["criterion"] == "readiness"]
    assert readiness[0]["firm_answer"] == "Ready."


def test_it_hides_a_case_from_an_unassigned_auditor(client_for, submitted_a):
    ursula = client_for("ursula")
    assert ursula.get(case_url(submitted_a)).status_code == 404
    assert ursula.get(case_url(submitted_a, "actions/")).status_code == 404
    assert ursula.get(f"{API}/applications/").json()["count"] == 0


def test_it_shows_the_assigned_auditor_the_case_with_no_actions(client_for, submitted_a):
    audrey = client_for("audrey")
    response = audrey.get(case_url(submitted_a))
    assert response.status_code == 200
    assert response.json()["reference"] == submitted_a.reference
    assert action_names(audrey.get(case_url(submitted_a, "actions/"))) == set()
    refused = audrey.post(action_url(submitted_a, "start_screening"), {})
    assert refused.status_code == 403


def test_it_answers_404_to_an_unknown_action(client_for, submitted_a):
    response = client_for("olivia").post(action_url(submitted_a, "approve_everything"), {})
    assert response.status_code == 404


def test_it_never_deletes_anything(client_for, people, submitted_a, node_a):
    alice = client_for("alice")
    staff = client_for("staff")
    document = submitted_a.documents.get()
    for client in (alice, staff):
        assert client.delete(case_url(submitted_a)).status_code == 405
        assert client.delete(f"{API}/documents/{document.pk}/").status_code == 405
        assert client.delete(f"{API}/nodes/{node_a.pk}/").status_code == 405
    membership = people.amir.memberships.get()
    assert alice.delete(f"{API}/members/{membership.pk}/").status_code == 405
    assert alice.put(case_url(submitted_a), {"title": "x"}, format="json").status_code == 405
    assert Application.objects.filter(pk=submitted_a.pk).exists()


def test_it_refuses_a_firm_user_setting_a_condition_status(client_for, in_sandbox_a):
    condition = in_sandbox_a.conditions.get()
    before = database_state()
    response = client_for("alice").post(
        f"{API}/conditions/{condition.pk}/status/", {"status": "met"}, format="json"
    )
    assert response.status_code == 403
    assert database_state() == before
    outsider = client_for("bella").post(
        f"{API}/conditions/{condition.pk}/status/", {"status": "met"}, format="json"
    )
    assert outsider.status_code == 404


def test_it_answers_409_for_the_wrong_state_whatever_the_payload(client_for, submitted_a):
    before = database_state()
    response = client_for("victor").post(action_url(submitted_a, "decide"), {}, format="json")
    assert response.status_code == 409
    assert "'Decide' cannot be taken now" in response.json()["detail"]
    assert database_state() == before
