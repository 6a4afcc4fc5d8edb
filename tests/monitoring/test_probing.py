"""Probing admitted cases' nodes on real Hardhat chains: samples, the alert rules, incidents
opened once and cleared once, their mail and their audit events."""

import pytest
from django.utils import timezone

from assessments.monitoring import services, tasks
from assessments.monitoring.models import (
    Incident,
    IncidentStatus,
    MonitorState,
    ProbeSample,
    Rule,
)
from assessments.monitoring.ui.dashboard import agreement
from sandbox_portal.audit.models import AuditEvent

from .conftest import later, register, set_rules

PEOPLE_OF_THE_CASE = ["alice@example.test", "amir@example.test", "olivia@example.test"]


def block_hash(node, height):
    return node.rpc("eth_getBlockByNumber", hex(height), False)["hash"]


def head(node):
    return int(node.rpc("eth_blockNumber"), 16)


def test_a_probe_keeps_one_sample_per_node_with_head_latency_interval_and_peers(
    live_case, steady, probe
):
    assert probe(live_case) == "probed"

    (sample,) = ProbeSample.objects.all()
    node = live_case.nodes.get()
    assert sample.node == node and sample.up and sample.error == ""
    assert sample.height >= 0 and sample.height <= head(steady)
    assert sample.block_hash == block_hash(steady, sample.height)
    assert 0 < sample.latency_ms < 5000
    assert sample.peers == 0  # Hardhat answers net_peerCount: it has no peers
    assert sample.lag == 0
    state = MonitorState.objects.get(application=live_case)
    assert state.probing_since is None and state.last_probe_at is not None
    assert state.heads[str(node.pk)]["height"] == sample.height
    assert not Incident.objects.exists()


def test_a_stalled_chain_opens_one_incident_in_time_and_clears_when_blocks_come_again(
    sandbox_case, people, other, probe, mailoutbox
):
    node = register(sandbox_case, people, "validator-1", other.url)
    set_rules(sandbox_case, stall_blocks=3, block_time_s=1.0)  # stalled after 3 s
    other.rpc("evm_setIntervalMining", 0)
    height = head(other)
    t0 = timezone.now()

    probe(sandbox_case, t0)
    probe(sandbox_case, later(t0, 2))
    assert not Incident.objects.exists(), "2 s without a block is not yet a stall"

    probe(sandbox_case, later(t0, 3.5))
    incident = Incident.objects.get()
    assert incident.rule == Rule.STALLED_CHAIN and incident.is_open
    assert list(incident.nodes.all()) == [node]
    assert incident.detail["height"] == height and incident.detail["stalled_s"] >= 3
    assert incident.opened_at == later(t0, 3.5)
    assert len(mailoutbox) == 1
    assert sorted(mailoutbox[0].to) == PEOPLE_OF_THE_CASE
    assert (
        "Chain stalled" in mailoutbox[0].subject and sandbox_case.reference in mailoutbox[0].subject
    )
    assert f"/cases/{sandbox_case.pk}/monitoring/" in mailoutbox[0].body

    # The stall goes on: the same incident, seen again; nobody is mailed again.
    probe(sandbox_case, later(t0, 6))
    probe(sandbox_case, later(t0, 9))
    incident.refresh_from_db()
    assert Incident.objects.count() == 1 and incident.is_open
    assert incident.last_seen_at == later(t0, 9)
    assert len(mailoutbox) == 1

    other.rpc("evm_mine")  # blocks come again
    probe(sandbox_case, later(t0, 12))
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLEARED
    assert incident.cleared_at == later(t0, 12)
    assert "moves again" in incident.cleared_reason
    assert len(mailoutbox) == 2 and "Cleared" in mailoutbox[1].subject
    assert sorted(mailoutbox[1].to) == PEOPLE_OF_THE_CASE

    probe(sandbox_case, later(t0, 13))
    assert len(mailoutbox) == 2 and Incident.objects.count() == 1

    events = list(
        AuditEvent.objects.filter(object_type="monitoring.incident").values_list(
            "action", "actor_id", "application_id"
        )
    )
    assert events == [
        ("incident.open", None, sandbox_case.pk),
        ("incident.clear", None, sandbox_case.pk),
    ]


def test_two_nodes_of_different_chains_disagree_at_a_final_height(
    live_case, people, steady, other, probe, mailoutbox
):
    first = live_case.nodes.get()
    second = register(live_case, people, "validator-2", other.url)

    assert probe(live_case) == "probed"

    incident = Incident.objects.get()
    assert incident.rule == Rule.FORK and incident.key == "fork"
    assert set(incident.nodes.all()) == {first, second}
    height = incident.detail["height"]
    # Final at the default depth of 2 (the genesis block is always final).
    assert 0 <= height <= max(0, min(head(steady), head(other)) - 2)
    assert incident.detail["hashes"] == {
        "validator-1": block_hash(steady, height),
        "validator-2": block_hash(other, height),
    }
    assert block_hash(steady, height) != block_hash(other, height)
    state = MonitorState.objects.get(application=live_case)
    assert agreement(state)["agree"] is False  # the dashboard says the heads differ
    assert len(mailoutbox) == 1 and "disagree" in mailoutbox[0].subject

    probe(live_case)
    assert Incident.objects.count() == 1 and len(mailoutbox) == 1
    event = AuditEvent.objects.get(action="incident.open")
    assert event.after["detail"]["height"] == height


def test_a_node_that_does_not_answer_is_down_after_the_configured_probes(
    live_case, people, steady, dead_url, probe, mailoutbox
):
    node = register(live_case, people, "validator-2", dead_url)
    set_rules(live_case, block_time_s=60)  # simulated seconds are no stall of a real chain
    t0 = timezone.now()

    probe(live_case, t0)
    assert not Incident.objects.exists(), "one failed probe is not yet down (default: 2)"
    probe(live_case, later(t0, 10))

    incident = Incident.objects.get()
    assert incident.rule == Rule.NODE_DOWN and list(incident.nodes.all()) == [node]
    assert incident.detail["node"] == "validator-2" and "unreachable" in incident.detail["error"]
    down = ProbeSample.objects.filter(node=node)
    assert down.count() == 2 and not any(s.up for s in down)
    assert len(mailoutbox) == 1 and "Node down on validator-2" in mailoutbox[0].subject

    register(live_case, people, "validator-2", steady.url)  # the node is back
    probe(live_case, later(t0, 20))
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLEARED and "answers again" in incident.cleared_reason
    assert len(mailoutbox) == 2


def test_an_endpoint_the_guard_refuses_is_never_contacted(live_case, people, probe):
    # Registration refuses the address now; a row holding it still never reaches it.
    register(live_case, people, "validator-2", "https://validator-2.firm-a.test:8545")
    node = register(live_case, people, "validator-2", "http://169.254.169.254/")
    set_rules(live_case, down_after_probes=1)

    probe(live_case)

    sample = ProbeSample.objects.get(node=node)
    assert not sample.up and "refused" in sample.error
    assert Incident.objects.get().rule == Rule.NODE_DOWN


def test_a_latency_bound_below_every_answer_raises_the_latency_alert(live_case, probe, mailoutbox):
    set_rules(live_case, latency_bound_s=0.0001)
    probe(live_case)

    incident = Incident.objects.get()
    assert incident.rule == Rule.LATENCY
    assert incident.detail["p95_s"] > incident.detail["bound_s"] == 0.0001
    assert incident.detail["samples"] == 1

    set_rules(live_case, latency_bound_s=30)
    probe(live_case)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLEARED
    assert [m.subject.split("] ")[1].split(":")[0] for m in mailoutbox] == [
        "Monitoring alert",
        "Cleared",
    ]


def test_a_reorganisation_deeper_than_tolerated_is_an_incident(sandbox_case, people, other, probe):
    register(sandbox_case, people, "validator-1", other.url)
    set_rules(sandbox_case, block_time_s=60)  # mining paused is no stall here
    other.rpc("evm_setIntervalMining", 0)
    snapshot = other.rpc("evm_snapshot")
    start = head(other)
    for _ in range(5):
        other.rpc("evm_mine")
    t0 = timezone.now()
    probe(sandbox_case, t0)  # remembers the head (start + 5) and the final block
    assert not Incident.objects.exists()

    # The node rewinds and builds another chain from ``start``: blocks start+1.. change.
    other.rpc("evm_revert", snapshot)
    timestamp = int(other.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
    for i in range(6):
        other.rpc("evm_mine", timestamp + 1000 + i)
    probe(sandbox_case, later(t0, 10))

    incident = Incident.objects.get()
    assert incident.rule == Rule.REORG
    assert incident.detail["depth"] >= 3 > 2  # deeper than the default tolerance
    changed = incident.detail["changed"]
    assert all(c["height"] > start and c["was"] != c["now"] for c in changed)

    probe(sandbox_case, later(t0, 20))  # nothing was replaced since
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLEARED


def test_probes_of_one_case_never_overlap_and_a_tick_is_probed_once(live_case, probe):
    now = timezone.now()
    MonitorState.objects.create(application=live_case, probing_since=now)
    assert probe(live_case, later(now, 1)) == "skipped"
    assert not ProbeSample.objects.exists()

    MonitorState.objects.filter(application=live_case).update(probing_since=None)
    assert probe(live_case, later(now, 2), tick=later(now, 2)) == "probed"
    assert probe(live_case, later(now, 3), tick=later(now, 2)) == "skipped"
    assert ProbeSample.objects.count() == 1
    assert MonitorState.objects.get(application=live_case).probing_since is None


def test_the_beat_task_sends_one_probe_per_monitored_case(
    live_case, people, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        tasks.probe_case, "apply_async", lambda args, **kwargs: sent.append((args, kwargs))
    )
    assert tasks.probe_monitored_cases() == 1
    ((case_id, tick), options) = sent[0]
    assert case_id == live_case.pk and options["expires"] > 0

    # The task the beat sent, run here: it probes, and a re-delivery of it does not.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.probe_case(case_id, tick) == "probed"
        assert tasks.probe_case(case_id, tick) == "skipped"


@pytest.mark.parametrize("state", ["technical_testing", "exited"])
def test_a_case_not_admitted_or_not_live_is_not_probed(people, submitted_a, state, probe):
    from tests.conftest import advance

    if state == "technical_testing":
        app = advance(submitted_a, people, state)
    else:
        app = advance(submitted_a, people, "in_sandbox")
        type(app).objects.filter(pk=app.pk).update(state=state)
        app.refresh_from_db()
    assert probe(app) == "not monitored"
    assert not services.monitored_cases().filter(pk=app.pk).exists()
    assert not ProbeSample.objects.exists()


def test_incidents_of_a_case_that_left_monitoring_are_cleared(
    live_case, dead_url, people, probe, mailoutbox, django_capture_on_commit_callbacks
):
    register(live_case, people, "validator-2", dead_url)
    set_rules(live_case, down_after_probes=1)
    probe(live_case)
    incident = Incident.objects.get()
    type(live_case).objects.filter(pk=live_case.pk).update(state="exited")

    with django_capture_on_commit_callbacks(execute=True):
        assert services.clear_unmonitored() == 1
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.CLEARED
    assert incident.cleared_reason == "the case is no longer monitored"
    assert len(mailoutbox) == 2
