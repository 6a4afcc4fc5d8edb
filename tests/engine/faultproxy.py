"""A JSON-RPC proxy in front of a real node that injects the faults the engine must name.

``FaultProxy(upstream)`` listens on a free 127.0.0.1 port (a threaded HTTP/1.1 server,
JSON-RPC single calls and batches) and forwards every call to ``upstream``. With no fault
switched on it passes answers through unchanged. Faults, switchable while it runs (each
method returns at once; ``heal()`` switches every fault off):

- ``fork(at)``: from height ``at`` on, this proxy's node holds other blocks: block hashes
  (and the parentHash of every block above ``at``) are replaced, consistently, so two
  proxies in front of one node disagree from ``at`` on and agree below it;
- ``delay(seconds)``: blocks become visible only ``seconds`` after their timestamp (the
  head, "latest", receipts and state reads all stop at the last visible block);
- ``stall()``: the head freezes at the height it has now: eth_blockNumber, "latest" and
  state reads stay there, later blocks and receipts are never shown, while the node keeps
  taking transactions (as a node whose block production stopped does);
- ``double_spend()``: of two transactions with one sender and one nonce, both are
  reported as accepted and as included (the one the node did not take gets a copy of the
  other's receipt);
- ``high_s(hashes)``: those transactions (every one when None) are served with s
  replaced by n - s and the parity flipped: the same sender, a malleable signature;
- ``corrupt_signatures(hashes)``: a byte of s is flipped, so the signature no longer
  recovers to ``from``;
- ``inject(height, txs)`` and ``reuse_nonce(height)``: extra transactions served inside a
  block (and by hash); ``reuse_nonce`` signs two transfers from one key with one ECDSA
  nonce k, so their signatures share r.

This is a test tool: it trusts its upstream and its callers.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import rlp
from eth_account import Account
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

from assessments.engine.ecdsa import N
from tests.engine.helpers import legacy_tx_with_nonce

MAX_BODY = 8 * 1024 * 1024
LATEST_TAGS = ("latest", "pending", "safe", "finalized")
FROZEN_TAGS = ("latest", "safe", "finalized")
# Methods whose last parameter is a block tag: frozen at the visible head during a fault.
STATE_METHODS = {
    "eth_getBalance": 1,
    "eth_getTransactionCount": 1,
    "eth_getCode": 1,
    "eth_getStorageAt": 2,
    "eth_call": 1,
    "eth_estimateGas": 1,
}
# A fixed key and ECDSA nonce for ``reuse_nonce``: never a real account's.
REUSE_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
REUSE_K = 0x1D2C3B4A59687766554433221100FFEEDDCCBBAA99887766554433221100AABB


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def forked_hash(value: str) -> str:
    """The hash a forked node shows in place of ``value`` (deterministic, never equal)."""
    return "0x" + keccak(b"forked:" + bytes.fromhex(value[2:])).hex()


def with_high_s(tx: dict) -> dict:
    """``tx`` with s replaced by n - s and the recovery parity flipped (same sender)."""
    tx = dict(tx)
    tx["s"] = hex(N - _int(tx["s"]))
    kind = _int(tx.get("type") or 0)
    if kind == 0:
        v = _int(tx["v"])
        if v in (27, 28):
            tx["v"] = hex(55 - v)
        else:
            tx["v"] = hex(v + 1 if (v - 35) % 2 == 0 else v - 1)
    else:
        parity = 1 - _int(tx.get("yParity", tx.get("v")))
        tx["v"] = hex(parity)
        if "yParity" in tx:
            tx["yParity"] = hex(parity)
    return tx


def with_corrupt_signature(tx: dict) -> dict:
    """``tx`` with the low byte of s flipped: s stays low, the signer is someone else."""
    tx = dict(tx)
    tx["s"] = hex(_int(tx["s"]) ^ 0xFF)
    return tx


def legacy_tx_object(raw: str, sender: str, chain_id: int) -> dict:
    """The JSON-RPC transaction object of a raw legacy EIP-155 transaction (not in a block)."""
    data = bytes.fromhex(raw[2:])
    nonce, gas_price, gas, to, value, payload, v, r, s = rlp.decode(data)
    return {
        "type": "0x0",
        "hash": "0x" + keccak(data).hex(),
        "from": sender,
        "nonce": hex(int.from_bytes(nonce, "big")),
        "gasPrice": hex(int.from_bytes(gas_price, "big")),
        "gas": hex(int.from_bytes(gas, "big")),
        "to": to_checksum_address(to) if to else None,
        "value": hex(int.from_bytes(value, "big")),
        "input": "0x" + payload.hex(),
        "chainId": hex(chain_id),
        "v": hex(int.from_bytes(v, "big")),
        "r": hex(int.from_bytes(r, "big")),
        "s": hex(int.from_bytes(s, "big")),
        "blockHash": None,
        "blockNumber": None,
        "transactionIndex": None,
    }


def sender_and_nonce(raw: str) -> tuple[str, int] | None:
    """(sender, nonce) of a raw signed transaction, or None if it cannot be decoded."""
    try:
        data = bytes.fromhex(raw[2:])
        sender = Account.recover_transaction(data)
        fields = rlp.decode(data) if data[0] >= 0xC0 else rlp.decode(data[1:])
        nonce = int.from_bytes(fields[0] if data[0] >= 0xC0 else fields[1], "big")
    except Exception:  # anything a node would refuse: the proxy just forwards it
        return None
    return sender.lower(), nonce


class FaultProxy:
    """See the module docstring. Use as a context manager, or call ``close()``."""

    def __init__(self, upstream: str, *, timeout: float = 30.0):
        self.upstream = upstream
        self.calls: Counter[str] = Counter()
        self._http = httpx.Client(timeout=timeout, trust_env=False)
        self._lock = threading.Lock()
        self._ids = iter(range(1, 1 << 62))
        self._sent: dict[tuple[str, int], list[str]] = {}
        self._sent_key: dict[str, tuple[str, int]] = {}
        self._timestamps: dict[int, int] = {}
        self.heal()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 60

            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                if not 0 < length <= MAX_BODY:
                    self._reply(400, {"error": "a JSON-RPC body of 1 byte to 8 MiB is needed"})
                    return
                try:
                    request = json.loads(self.rfile.read(length))
                except ValueError:
                    error = {"code": -32700, "message": "parse error"}
                    self._reply(200, {"jsonrpc": "2.0", "id": None, "error": error})
                    return
                self._reply(200, proxy.answer(request))

            def _reply(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    # --- switching faults --------------------------------------------------------------

    def heal(self) -> None:
        """Switch every fault off: a plain pass-through proxy again."""
        with self._lock:
            self.fork_at: int | None = None
            self.delay_s: float | None = None
            self.stalled_at: int | None = None
            self.stalled_since: float | None = None
            self.double_spending = False
            self._high_s: set[str] | None | bool = False
            self._corrupt: set[str] | None | bool = False
            self._injected: dict[int, list[dict]] = {}
            self._forked: dict[str, str] = {}
            self._lose_sends = 0

    def fork(self, at: int) -> None:
        """From height ``at`` on this proxy's node holds blocks of its own."""
        self.fork_at = at

    def delay(self, seconds: float) -> None:
        """Show a block only ``seconds`` after its timestamp."""
        self.delay_s = seconds

    def stall(self) -> int:
        """Freeze the head at the node's current height; returns that height."""
        height = _int(self._call("eth_blockNumber"))
        self.stalled_at, self.stalled_since = height, time.time()
        return height

    def double_spend(self) -> None:
        """Report both transactions of a same-nonce pair as accepted and included."""
        self.double_spending = True

    def lose_sends(self, count: int = 1) -> None:
        """Accept the next ``count`` raw transactions (answering their hashes) and drop them:
        a pool that loses what it accepted."""
        with self._lock:
            self._lose_sends = count

    def high_s(self, hashes=None) -> None:
        """Serve these transactions (every one when None) with a high-s signature."""
        self._high_s = None if hashes is None else {h.lower() for h in hashes}

    def corrupt_signatures(self, hashes=None) -> None:
        """Serve these transactions (every one when None) with a byte of s flipped."""
        self._corrupt = None if hashes is None else {h.lower() for h in hashes}

    def inject(self, height: int, txs: list[dict]) -> None:
        """Serve ``txs`` (JSON-RPC transaction objects) as the last ones of block ``height``."""
        with self._lock:
            self._injected.setdefault(height, []).extend(copy.deepcopy(txs))

    def reuse_nonce(self, height: int) -> dict:
        """Inject into block ``height`` two transfers signed by one key with one nonce k.

        Returns ``{"sender", "hashes", "r"}``.
        """
        chain_id = _int(self._call("eth_chainId"))
        sender = keys.PrivateKey(REUSE_KEY).public_key.to_checksum_address()
        txs = []
        for nonce, value in ((0, 1000), (1, 2000)):
            raw, _, _ = legacy_tx_with_nonce(
                REUSE_KEY,
                REUSE_K,
                nonce=nonce,
                gas_price=10**9,
                to="0x" + "22" * 20,
                value=value,
                chain_id=chain_id,
            )
            txs.append(legacy_tx_object(raw, sender, chain_id))
        self.inject(height, txs)
        return {"sender": sender, "hashes": [t["hash"] for t in txs], "r": txs[0]["r"]}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- answering ---------------------------------------------------------------------

    def answer(self, request: Any) -> Any:
        """The answer to one JSON-RPC request object or batch."""
        visible = self._visible_head()
        if isinstance(request, list):
            return [self._one(r, visible) for r in request]
        return self._one(request, visible)

    def _call(self, method: str, *params: Any) -> Any:
        """One call to the upstream node; its result (None when it answered an error)."""
        reply = self._forward({"jsonrpc": "2.0", "id": 0, "method": method, "params": params})
        return reply.get("result")

    def _forward(self, request: dict) -> dict:
        with self._lock:
            upstream_id = next(self._ids)
        body = dict(request, id=upstream_id, params=list(request.get("params") or []))
        reply = self._http.post(self.upstream, json=body).json()
        return dict(reply, id=request.get("id"))

    def _visible_head(self) -> int | None:
        """The highest block this proxy's node shows, or None when no fault limits it."""
        limits = []
        if self.stalled_at is not None:
            limits.append(self.stalled_at)
        if self.delay_s is not None:
            top = _int(self._call("eth_blockNumber"))
            cutoff = time.time() - self.delay_s
            h = top
            while h > 0 and self._timestamp(h) > cutoff:
                h -= 1
            limits.append(h)
        return min(limits) if limits else None

    def _timestamp(self, height: int) -> int:
        if height not in self._timestamps:
            block = self._call("eth_getBlockByNumber", hex(height), False)
            self._timestamps[height] = _int(block["timestamp"])
        return self._timestamps[height]

    def _one(self, request: Any, visible: int | None) -> Any:
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            error = {"code": -32600, "message": "invalid request"}
            return {"jsonrpc": "2.0", "id": None, "error": error}
        method = request["method"]
        params = list(request.get("params") or [])
        with self._lock:
            self.calls[method] += 1
        rid = request.get("id")

        def result(value):
            return {"jsonrpc": "2.0", "id": rid, "result": value}

        if visible is not None:
            if method == "eth_blockNumber":
                return result(hex(visible))
            if not self._limit(method, params, visible):
                return result(None)
        if method == "eth_getBlockByHash" and params and self.fork_at is not None:
            params[0] = self._forked.get(str(params[0]).lower(), params[0])
        if method == "eth_getTransactionByHash" and params:
            injected = self._injected_tx(str(params[0]).lower())
            if injected is not None:
                return result(self._transform_tx(injected))
        if method == "eth_sendRawTransaction" and params:
            with self._lock:
                lose, self._lose_sends = self._lose_sends > 0, max(0, self._lose_sends - 1)
            if lose:
                return result(self._hash_of(params[0]))
            self._remember(params[0])

        reply = self._forward(dict(request, params=params))
        if "result" not in reply:
            if method == "eth_sendRawTransaction" and self.double_spending:
                twin = self._sent_key.get(self._hash_of(params[0]))
                if twin is not None and len(self._sent.get(twin, ())) > 1:
                    return result(self._hash_of(params[0]))
            return reply
        value = reply["result"]
        if method in ("eth_getBlockByNumber", "eth_getBlockByHash"):
            value = self._block(value, visible, full=bool(params[1:2] and params[1]))
            if method == "eth_getBlockByHash" and value is not None and self.fork_at is not None:
                asked = str(request["params"][0]).lower()
                if _int(value["number"]) >= self.fork_at and asked not in self._forked:
                    value = None  # the other branch's block: unknown to this node
        elif method == "eth_getTransactionByHash":
            value = self._transaction(value, visible)
        elif method == "eth_getTransactionReceipt":
            if value is None and self.double_spending:
                value = self._twin_receipt(str(params[0]).lower())
            value = self._receipt(value, visible)
        elif method == "eth_getBlockReceipts" and isinstance(value, list):
            value = [self._receipt(r, visible) for r in value]
        return result(value)

    @staticmethod
    def _limit(method: str, params: list, visible: int) -> bool:
        """Point "latest" at the visible head (in place); False for a block beyond it."""
        if method in ("eth_getBlockByNumber", "eth_getBlockReceipts") and params:
            tag = params[0]
            if tag in LATEST_TAGS:
                params[0] = hex(visible)
            elif isinstance(tag, str) and tag.startswith("0x") and _int(tag) > visible:
                return False
        position = STATE_METHODS.get(method)
        # "pending" stays: the node's pool still takes transactions during a fault.
        if position is not None and len(params) > position and params[position] in FROZEN_TAGS:
            params[position] = hex(visible)
        return True

    # --- rewriting answers ---------------------------------------------------------------

    def _fork_hash(self, value: str) -> str:
        forked = forked_hash(value)
        self._forked[forked] = value
        return forked

    def _in_fork(self, number: Any) -> bool:
        return self.fork_at is not None and number is not None and _int(number) >= self.fork_at

    def _block(self, block: dict | None, visible: int | None, full: bool) -> dict | None:
        if block is None:
            return None
        number = _int(block["number"])
        if visible is not None and number > visible:
            return None
        block = dict(block)
        txs = list(block["transactions"])
        for i, tx in enumerate(self._injected.get(number, ())):
            tx = dict(tx, blockNumber=hex(number), transactionIndex=hex(len(txs) + i))
            txs.append(tx)
        if self._in_fork(number):
            block["hash"] = self._fork_hash(block["hash"])
            if number > self.fork_at:
                block["parentHash"] = self._fork_hash(block["parentHash"])
        out = []
        for tx in txs:
            if isinstance(tx, dict):
                tx = self._transform_tx(dict(tx, blockHash=block["hash"]))
                out.append(tx if full else tx["hash"])
            else:
                out.append(tx)
        block["transactions"] = out
        return block

    def _transaction(self, tx: dict | None, visible: int | None) -> dict | None:
        if tx is None:
            return None
        tx = dict(tx)
        number = tx.get("blockNumber")
        if visible is not None and number is not None and _int(number) > visible:
            tx.update(blockHash=None, blockNumber=None, transactionIndex=None)
        elif self._in_fork(number):
            tx["blockHash"] = self._fork_hash(tx["blockHash"])
        return self._transform_tx(tx)

    def _receipt(self, receipt: dict | None, visible: int | None) -> dict | None:
        if receipt is None:
            return None
        number = receipt.get("blockNumber")
        if visible is not None and number is not None and _int(number) > visible:
            return None
        if self._in_fork(number):
            receipt = dict(receipt, blockHash=self._fork_hash(receipt["blockHash"]))
            receipt["logs"] = [dict(log, blockHash=receipt["blockHash"]) for log in receipt["logs"]]
        return receipt

    def _transform_tx(self, tx: dict) -> dict:
        h = str(tx.get("hash", "")).lower()
        if self._high_s is None or (self._high_s and h in self._high_s):
            tx = with_high_s(tx)
        if self._corrupt is None or (self._corrupt and h in self._corrupt):
            tx = with_corrupt_signature(tx)
        return tx

    def _injected_tx(self, tx_hash: str) -> dict | None:
        for height, txs in self._injected.items():
            for i, tx in enumerate(txs):
                if tx["hash"].lower() == tx_hash:
                    block = self._call("eth_getBlockByNumber", hex(height), False)
                    block_hash = block["hash"] if block else None
                    if block_hash and self._in_fork(height):
                        block_hash = self._fork_hash(block_hash)
                    index = len(block["transactions"]) + i if block else None
                    return dict(
                        tx,
                        blockNumber=hex(height),
                        blockHash=block_hash,
                        transactionIndex=None if index is None else hex(index),
                    )
        return None

    # --- double spends -----------------------------------------------------------------

    @staticmethod
    def _hash_of(raw: Any) -> str:
        try:
            return "0x" + keccak(bytes.fromhex(str(raw)[2:])).hex()
        except ValueError:
            return ""

    def _remember(self, raw: Any) -> None:
        key = sender_and_nonce(str(raw))
        if key is None:
            return
        h = self._hash_of(raw)
        with self._lock:
            hashes = self._sent.setdefault(key, [])
            if h not in hashes:
                hashes.append(h)
            self._sent_key[h] = key

    def _twin_receipt(self, tx_hash: str) -> dict | None:
        """The receipt of a same-nonce twin, made out to ``tx_hash``; None without one."""
        key = self._sent_key.get(tx_hash)
        for twin in self._sent.get(key, ()) if key else ():
            if twin == tx_hash:
                continue
            receipt = self._call("eth_getTransactionReceipt", twin)
            if receipt is not None:
                logs = [dict(log, transactionHash=tx_hash) for log in receipt.get("logs", [])]
                return dict(receipt, transactionHash=tx_hash, logs=logs)
        return None
