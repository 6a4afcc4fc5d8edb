"""Test-only tools: signing with a chosen ECDSA nonce, a scripted fake node, a listener."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import rlp
from eth_keys import keys
from eth_utils import keccak, to_bytes

from assessments.engine.ecdsa import HALF_N, N


def sign_with_nonce(private_key: bytes, msg_hash: bytes, k: int) -> tuple[int, int, int]:
    """(r, s, recovery id) signing ``msg_hash`` with the chosen nonce ``k``.

    Never do this with a real key: a nonce used twice gives the key away, which is what
    the crypto suite must detect.
    """
    d = int.from_bytes(private_key, "big")
    point = keys.PrivateKey(k.to_bytes(32, "big")).public_key.to_bytes()  # k * G
    x, y = int.from_bytes(point[:32], "big"), int.from_bytes(point[32:], "big")
    r = x % N
    z = int.from_bytes(msg_hash, "big")
    s = (pow(k, -1, N) * (z + r * d)) % N
    recovery_id = (y & 1) | (2 if x >= N else 0)
    if s > HALF_N:
        s, recovery_id = N - s, recovery_id ^ 1
    return r, s, recovery_id


def legacy_tx_with_nonce(private_key: bytes, k: int, *, nonce, gas_price, to, value, chain_id):
    """A raw EIP-155 transfer signed with the chosen ECDSA nonce ``k``; (raw hex, hash, z)."""
    fields = [nonce, gas_price, 21000, to_bytes(hexstr=to), value, b""]
    z = keccak(rlp.encode([*fields, chain_id, 0, 0]))
    r, s, recovery_id = sign_with_nonce(private_key, z, k)
    raw = rlp.encode([*fields, chain_id * 2 + 35 + recovery_id, r, s])
    return "0x" + raw.hex(), "0x" + keccak(raw).hex(), z


class FakeNode:
    """An HTTP server answering JSON-RPC with whatever ``answer(request_json)`` returns.

    ``answer`` returns a Python object (sent as JSON) or ``bytes`` (sent as they are).
    """

    def __init__(self, answer):
        self.answer = answer
        self.requests = []
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                request = json.loads(body)
                node.requests.append(request)
                reply = node.answer(request)
                data = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def result(request, value):
    return {"jsonrpc": "2.0", "id": request["id"], "result": value}


class Listener:
    """A TCP socket that counts the connections made to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def accepted(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                return count
            conn.close()
            count += 1

    def close(self):
        self.sock.close()
