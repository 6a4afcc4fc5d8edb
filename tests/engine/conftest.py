"""Real Hardhat nodes for the engine tests, started on free ports and stopped afterwards.

The engine tests need no database. They need ``node_modules`` (``npm ci`` at the
repository root, which ``make test`` runs); without it they fail and say so.
"""

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from eth_account import Account

REPO = Path(__file__).resolve().parents[2]
HARDHAT = REPO / "node_modules" / ".bin" / "hardhat"
MNEMONIC = "test test test test test test test test test test test junk"

Account.enable_unaudited_hdwallet_features()


def hardhat_key(index: int) -> str:
    """Private key of funded Hardhat account ``index`` (the public test mnemonic)."""
    account = Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return "0x" + bytes(account.key).hex()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Node:
    url: str
    chain_id: int
    process: subprocess.Popen
    log: Path

    def rpc(self, method, *params):
        """A direct call for test set-up and assertions (bypasses the engine on purpose)."""
        reply = httpx.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
            timeout=10,
        ).json()
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["result"]


def start_node(
    tmp: Path, *, chain_id=31337, block_ms=1000, automine=True, block_gas_limit=30_000_000
) -> Node:
    if not HARDHAT.exists():
        pytest.fail(
            "node_modules is missing: run `npm ci` in the repository root "
            "(make test does) to install the Hardhat reference node",
            pytrace=False,
        )
    if shutil.which("node") is None:
        pytest.fail("Node.js is not installed: the reference node needs it", pytrace=False)
    port = free_port()
    log = tmp / f"hardhat-{chain_id}-{port}.log"
    env = {
        **os.environ,
        "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true",
        "HARDHAT_CHAIN_ID": str(chain_id),
        "HARDHAT_BLOCK_MS": str(block_ms),
        "HARDHAT_AUTOMINE": "true" if automine else "false",
        "HARDHAT_ACCOUNTS": "20",
        "HARDHAT_BLOCK_GAS_LIMIT": str(block_gas_limit),
    }
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(HARDHAT), "node", "--hostname", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    node = Node(f"http://127.0.0.1:{port}", chain_id, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"hardhat node exited: {log.read_text()[-2000:]}", pytrace=False)
        try:
            if int(node.rpc("eth_chainId"), 16) == chain_id:
                return node
        except (httpx.HTTPError, ValueError, RuntimeError):
            time.sleep(0.2)
    stop_node(node)
    pytest.fail(f"hardhat node did not answer in 60 s: {log.read_text()[-2000:]}", pytrace=False)


def stop_node(node: Node) -> None:
    node.process.terminate()
    try:
        node.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        node.process.kill()
        node.process.wait(timeout=10)


@pytest.fixture(scope="session")
def chain(tmp_path_factory):
    """Chain 31337: automine (a block per transaction) plus an empty block every second."""
    node = start_node(tmp_path_factory.mktemp("chain"), chain_id=31337)
    yield node
    stop_node(node)


@pytest.fixture(scope="session")
def other_chain(tmp_path_factory):
    """A separately started chain with another chain id: the same heights, other blocks."""
    node = start_node(tmp_path_factory.mktemp("other"), chain_id=31338)
    yield node
    stop_node(node)


@pytest.fixture(scope="session")
def interval_chain(tmp_path_factory):
    """Chain 31339 without automine: transactions wait for the next block, one a second."""
    node = start_node(tmp_path_factory.mktemp("interval"), chain_id=31339, automine=False)
    yield node
    stop_node(node)


@pytest.fixture(scope="session")
def narrow_chain(tmp_path_factory):
    """Chain 31340: one-second blocks that hold ten transfers each (10 tx/s at most)."""
    node = start_node(
        tmp_path_factory.mktemp("narrow"), chain_id=31340, automine=False, block_gas_limit=210_000
    )
    yield node
    stop_node(node)


@pytest.fixture(scope="module")
def ganache_chain(tmp_path_factory):
    """ganache 7.9.2, chain 1337: one block a second; hardhat_key(i) is its account i."""
    from tests.engine.nodes import NodeStartFailed, start_ganache  # nodes imports this module

    try:
        node = start_ganache(tmp_path_factory.mktemp("ganache"))
    except NodeStartFailed as exc:
        pytest.fail(str(exc), pytrace=False)
    yield node
    stop_node(node)


# The test nodes listen on 127.0.0.1, which the guard refuses unless a permitted network
# lists it. Every guard the engine tests build (directly, through a Target or a client)
# permits it, as OUTGOING_ALLOWED_NETWORKS does for the portal's tests; test_guard.py tests
# the refusal itself and passes its networks explicitly.
TEST_ALLOWED_NETWORKS = ("127.0.0.1/32",)


@pytest.fixture(autouse=True)
def _loopback_nodes_allowed(request, monkeypatch):
    if request.module.__name__.endswith(".test_guard"):
        return
    from assessments.engine.guard import Guard

    real_init = Guard.__init__

    def init(self, allowed, resolver=None, cache_seconds=5.0, allowed_networks=()):
        real_init(self, allowed, resolver, cache_seconds, allowed_networks or TEST_ALLOWED_NETWORKS)

    monkeypatch.setattr(Guard, "__init__", init)
