"""A second healthy Ethereum implementation beside Hardhat: ganache 7.9.2 from npm.

``start_ganache`` starts ``node_modules/.bin/ganache`` (pinned in package.json) on a free
127.0.0.1 port with interval mining (``--miner.blockTime``, one block a second by default)
and the public test mnemonic, so ``hardhat_key(i)`` is also the key of ganache's funded
account ``i``. Its chain id is ganache's own default, 1337, so a suite that mixed up the
two implementations would show it. ``local_target`` builds a Target that may reach nodes
on 127.0.0.1 (the guard refuses loopback unless the target lists the network).

Usable outside pytest (bench/verdicts_healthy.py): failures raise ``NodeStartFailed``.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from assessments.engine.results import Target
from tests.engine.conftest import MNEMONIC, REPO, Node, free_port, hardhat_key, stop_node

GANACHE = REPO / "node_modules" / ".bin" / "ganache"
GANACHE_CHAIN_ID = 1337
LOOPBACK = ("127.0.0.0/8",)

# Each suite that sends transactions funds its accounts from its own funded account, so a
# transaction one suite left pending never holds up another's nonce.
FAUCETS = {"crypto": 3, "payment": 1, "clearing": 2}

__all__ = [
    "GANACHE",
    "GANACHE_CHAIN_ID",
    "NodeStartFailed",
    "local_target",
    "start_ganache",
    "suite_target",
]


class NodeStartFailed(RuntimeError):
    """A node could not be started (not installed, exited, or did not answer in time)."""


def start_ganache(
    tmp: Path,
    *,
    chain_id: int = GANACHE_CHAIN_ID,
    block_time_s: float = 1,
    accounts: int = 20,
    start_timeout_s: float = 60,
) -> Node:
    """A running ganache node; stop it with ``stop_node``. Raises ``NodeStartFailed``."""
    if not GANACHE.exists():
        raise NodeStartFailed(
            "node_modules/.bin/ganache is missing: run `npm ci` in the repository root "
            "(make test does) to install ganache 7.9.2 from package.json"
        )
    if shutil.which("node") is None:
        raise NodeStartFailed("Node.js is not installed: ganache needs it")
    port = free_port()
    log = tmp / f"ganache-{chain_id}-{port}.log"
    command = [
        str(GANACHE),
        "--server.host=127.0.0.1",
        f"--server.port={port}",
        f"--chain.chainId={chain_id}",
        f"--miner.blockTime={block_time_s:g}",
        f"--wallet.mnemonic={MNEMONIC}",
        f"--wallet.totalAccounts={accounts}",
        "--logging.quiet",
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    node = Node(f"http://127.0.0.1:{port}", chain_id, process, log)
    deadline = time.monotonic() + start_timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise NodeStartFailed(f"ganache exited: {log.read_text()[-2000:]}")
        try:
            # A block above genesis: interval mining has started, not only the server.
            if int(node.rpc("eth_chainId"), 16) == chain_id and int(
                node.rpc("eth_blockNumber"), 16
            ):
                return node
        except (httpx.HTTPError, ValueError, RuntimeError):
            pass
        time.sleep(0.2)
    stop_node(node)
    raise NodeStartFailed(f"ganache did not answer in {start_timeout_s:g} s: {log.read_text()}")


def local_target(endpoints, faucet_key: str | None = None, **kwargs) -> Target:
    """A Target for nodes on 127.0.0.1: every endpoint allowed, loopback networks allowed."""
    endpoints = [endpoints] if isinstance(endpoints, str) else list(endpoints)
    names = {f.name for f in dataclasses.fields(Target)}
    if "allowed_networks" in names:
        kwargs.setdefault("allowed_networks", LOOPBACK)
    return Target(endpoints=endpoints, allowed=endpoints, faucet_key=faucet_key, **kwargs)


def suite_target(suite: str, url: str, peer_url: str | None = None) -> Target:
    """The target a healthy-implementation run gives ``suite`` on the node at ``url``.

    The consensus suite compares ``url`` with ``peer_url`` (the same node through a
    pass-through proxy) when given; suites that send transactions get a faucet.
    """
    endpoints = [url, peer_url] if suite == "consensus" and peer_url else [url]
    key = hardhat_key(FAUCETS[suite]) if suite in FAUCETS else None
    return local_target(endpoints, faucet_key=key)
