"""One Hyperledger Caliper 0.6 round: its configuration files, its launch, its results.

Caliper's Ethereum connector speaks WebSocket only and calls contracts only. Its network
configuration here makes it deploy ``CallTarget`` (the engine's own compiled artifact, from
``assessments/engine/contracts/artifacts.json``) and sign locally from a funded Hardhat
account with the same gas limit per call (``clearing.CALL_GAS``) and the same gas price as
the engine's clearing suite. One local worker, fixed-rate controller, ``txDuration`` seconds.

Caliper itself reports, per round, successes, failures, send rate, min/avg/max latency
and throughput (its console table, parsed here); the workload module (``workload.js``) also
keeps each transaction's hash and Caliper's own create and final times (epoch ms), from
which its percentiles are computed.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from procs import REPO

HERE = Path(__file__).resolve().parent
CALIPER = HERE / "node_modules" / ".bin" / "caliper"
CALL_GAS = 120_000  # the clearing suite's gas limit per clear(uint256) call


@dataclass
class CaliperRound:
    rate: float
    duration: float
    txs: list[dict] = field(default_factory=list)
    report: dict = field(default_factory=dict)
    returncode: int = 0
    log: Path | None = None


def write_config(
    work: Path, ws_url: str, key: str, address: str, gas_price: int, chain_id: int
) -> Path:
    """The network configuration and the contract JSON, in ``work``; returns the network file."""
    artifacts = json.loads((REPO / "assessments/engine/contracts/artifacts.json").read_text())
    contract = artifacts["contracts"]["CallTarget"]
    (work / "CallTarget.json").write_text(
        json.dumps(
            {
                "name": "CallTarget",
                "abi": contract["abi"],
                "bytecode": contract["bytecode"],
                "gas": 500_000,
            }
        )
    )
    network = {
        "caliper": {"blockchain": "ethereum", "command": {}},
        "ethereum": {
            "url": ws_url,
            "contractDeployerAddress": address,
            "contractDeployerAddressPrivateKey": key,
            "fromAddress": address,
            "fromAddressPrivateKey": key,
            "transactionConfirmationBlocks": 1,
            "gasPrice": gas_price,
            "chainId": chain_id,
            "contracts": {
                "CallTarget": {
                    "path": str(work / "CallTarget.json"),
                    "gas": {"clear": CALL_GAS},
                }
            },
        },
    }
    path = work / "network.json"
    path.write_text(json.dumps(network, indent=2))
    return path


def write_benchmark(work: Path, rate: float, duration: float, tx_log: Path) -> Path:
    # JSON is valid YAML, and Caliper reads its benchmark file as YAML.
    bench = {
        "test": {
            "name": "engine-vs-caliper",
            "description": "CallTarget.clear(uint256) at a fixed rate",
            "workers": {"number": 1},
            "rounds": [
                {
                    "label": f"clear-{rate:g}",
                    "txDuration": duration,
                    "rateControl": {"type": "fixed-rate", "opts": {"tps": rate}},
                    "workload": {
                        "module": str(HERE / "workload.js"),
                        "arguments": {"txLog": str(tx_log)},
                    },
                }
            ],
        },
    }
    path = work / f"benchmark-{rate:g}.yaml"
    path.write_text(json.dumps(bench, indent=2))
    return path


def command(work: Path, network: Path, benchmark: Path) -> list[str]:
    if not CALIPER.exists():
        raise SystemExit(f"{CALIPER} is missing: run `npm ci` in {HERE}")
    return [
        str(CALIPER),
        "launch",
        "manager",
        "--caliper-workspace",
        str(work),
        "--caliper-networkconfig",
        str(network),
        "--caliper-benchconfig",
        str(benchmark),
        "--caliper-report-path",
        str(work / f"{benchmark.stem}-report.html"),
    ]


def start(work: Path, network: Path, benchmark: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        command(work, network, benchmark),
        cwd=HERE,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


ROW = re.compile(r"^\|\s*clear-[^|]*\|(.*)\|\s*$")


def parse_report(text: str) -> dict:
    """Caliper's round summary row from its console table (the last one printed)."""
    names = ("succ", "fail", "send_rate", "max_latency", "min_latency", "avg_latency", "tps")
    found: dict = {}
    for line in text.splitlines():
        match = ROW.search(_strip_ansi(line))
        if match:
            cells = [c.strip() for c in match.group(1).split("|")]
            if len(cells) >= len(names):
                try:
                    found = {n: float(c) for n, c in zip(names, cells, strict=False)}
                except ValueError:
                    continue
    return found


def read_txs(tx_log: Path) -> list[dict]:
    txs = []
    for path in sorted(tx_log.parent.glob(tx_log.name + ".*")):
        txs.extend(json.loads(line) for line in path.read_text().splitlines() if line)
    return txs


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)
