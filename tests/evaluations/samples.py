"""SuiteRun results in the shape the engine's ``SuiteResult.to_dict()`` gives them."""

import datetime

from django.utils import timezone

from assessments.models import RunStatus, SuiteRun, TestRun


def _check(name, passed, description="", **evidence):
    return {"name": name, "passed": passed, "evidence": evidence, "description": description}


def _result(suite, metrics, checks, charts=None):
    return {
        "suite": suite,
        "passed": all(c["passed"] is not False for c in checks),
        "parameters": {},
        "endpoints": ["http://127.0.0.1:8545"],
        "metrics": metrics,
        "checks": checks,
        "charts": charts or {},
        "logs": [f"{suite}: done"],
        "started_at": "2026-11-25T10:00:00.000+00:00",
        "finished_at": "2026-11-25T10:01:00.000+00:00",
    }


def latency(p99, count=200):
    return {
        "count": count,
        "min": round(p99 / 10, 6),
        "mean": round(p99 / 3, 6),
        "max": round(p99 * 1.2, 6),
        "p50": round(p99 / 4, 6),
        "p90": round(p99 / 1.5, 6),
        "p95": round(p99 / 1.2, 6),
        "p99": p99,
        "p99_9": round(p99 * 1.1, 6),
    }


def block(ok=True, empty_ratio=0.1):
    return _result(
        "block",
        {
            "endpoint": "http://127.0.0.1:8545",
            "head": 120,
            "first_height": 20,
            "blocks_examined": 100,
            "missing_heights": [],
            "interval_s": {"count": 99, "min": 1, "mean": 2.0, "median": 2, "stdev": 0.1, "max": 3},
            "empty_blocks": int(empty_ratio * 100),
            "empty_block_ratio": empty_ratio,
            "transactions": 420,
        },
        [
            _check("parent_hash_linkage", ok, "every block's parent hash is its parent's hash"),
            _check("monotonic_heights", True, "heights increase by one"),
            _check("monotonic_timestamps", True, "timestamps never go back"),
            _check("no_stall", True, "a new block arrived while watching"),
        ],
        {"intervals": [[n, 2.0] for n in range(21, 121)]},
    )


def crypto(ok=True):
    return _result(
        "crypto",
        {
            "endpoint": "http://127.0.0.1:8545",
            "chain_id": 31337,
            "transactions_sampled": 50,
            "signatures_judged": 50,
            "recover_failures": 0 if ok else 3,
            "high_s": 0,
            "nonce_reuses": 0,
            "keys_recovered": 0,
        },
        [
            _check("signatures_recover", ok, "every signature recovers its sender"),
            _check("low_s", True, "no high-s signature"),
            _check("replay_protection", True, "every transaction carries the chain id"),
            _check("nonce_reuse", True, "no two signatures share a nonce"),
        ],
    )


def consensus(ok=True, max_lag=1):
    return _result(
        "consensus",
        {
            "nodes": ["http://127.0.0.1:8545", "http://127.0.0.1:8546"],
            "max_height_lag": max_lag,
            "mean_height_lag": 0.4,
            "safety_violations": 0 if ok else 1,
            "reorgs": 0,
            "availability": {"http://127.0.0.1:8545": 1.0, "http://127.0.0.1:8546": 1.0},
        },
        [
            _check("safety", ok, "no two nodes hold different blocks at one final height"),
            _check("same_chain_id", True, "every node reports the same chain id"),
            _check("height_lag", True, "the heads are never far apart"),
            _check("reorgs", True, "no deep reorganisation"),
            _check("availability", True, "every node answered"),
        ],
    )


def payment(p99=0.8, ok=True):
    return _result(
        "payment",
        {
            "transfers": {"succeeded": 200, "failed": 0, "not_final": 0},
            "receipt_latency_s": latency(p99),
            "finality_latency_s": latency(p99 * 3),
            "finality_depth": 3,
            "conservation": {"difference_wei": "0"},
            "double_spend": {"sent": 2, "included": 1},
        },
        [
            _check("value_conservation", True, "value is conserved"),
            _check("receipt_latency", ok, "p99 within bound", p99_s=p99),
            _check("double_spend", ok, "at most one of two is included"),
            _check("rollback", True, "a failing payment changes nothing"),
        ],
        {"receipt_latency_s": [[k, p99 / 2] for k in range(200)]},
    )


def clearing(tps=40.0):
    return _result(
        "clearing",
        {
            "accounts": 20,
            "workload": "transfers",
            "steps": [{"rate": 10, "confirmed_rate": 10.0, "sustained": True}],
            "saturation": {
                "reached": True,
                "max_sustained_rate": tps,
                "first_unsustained_rate": tps * 2,
                "max_sustained_confirmed_tps": tps,
            },
        },
        [
            _check("generator_valid", True, "the generator kept its schedule"),
            _check("all_confirmed", True, "every transaction confirmed"),
        ],
    )


SAMPLES = {
    "block": block,
    "crypto": crypto,
    "consensus": consensus,
    "payment": payment,
    "clearing": clearing,
}


def finished_run(application, actor, results, *, finished_at=None, status=RunStatus.SUCCEEDED):
    """A finished test run of ``application`` holding ``results`` (suite results)."""
    finished_at = finished_at or timezone.now()
    run = TestRun.objects.create(
        application=application,
        suites=[r["suite"] for r in results],
        requested_by=actor,
        status=status,
        progress=100,
        started_at=finished_at - datetime.timedelta(minutes=2),
        finished_at=finished_at,
    )
    SuiteRun.objects.bulk_create(
        SuiteRun(
            test_run=run,
            suite=r["suite"],
            status=RunStatus.SUCCEEDED,
            passed=r["passed"],
            result=r,
            started_at=run.started_at,
            finished_at=finished_at,
        )
        for r in results
    )
    return run
