"""A scriptable JSON-RPC node for the sender and clearing tests, on its own thread.

``Sink`` is an HTTP/1.1 server on an asyncio ``Protocol`` (keep-alive, pipelining, optional
TLS and chunked answers) that answers each JSON-RPC request with ``answer(request)``: a
Python object sent as JSON, ``bytes`` sent as the body, or ``None`` for no answer at all.
By default it plays a chain that takes every transaction (``SinkChain``, as the
benchmark's sink does): every account is rich and at nonce 0, each transaction received is
mined successfully into the next block, and a block is made every ``block_s`` seconds.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from eth_hash.auto import keccak


class SinkChain:
    def __init__(self):
        self.height = 0
        self.blocks: list[list[str]] = [[]]
        self.pending: list[str] = []
        self.mined: dict[str, int] = {}
        self.received: list[str] = []

    def seal(self) -> None:
        self.height += 1
        self.blocks.append(self.pending)
        for h in self.pending:
            self.mined[h] = self.height
        self.pending = []

    def answer(self, method: str, params: list):
        if method == "eth_sendRawTransaction":
            digest = "0x" + keccak(bytes.fromhex(params[0][2:])).hex()
            self.received.append(digest)
            self.pending.append(digest)
            return digest
        if method == "eth_blockNumber":
            return hex(self.height)
        if method == "eth_getBlockByNumber":
            number = self.height if params[0] == "latest" else int(params[0], 16)
            if number > self.height:
                return None
            return {
                "number": hex(number),
                "hash": "0x" + number.to_bytes(32, "big").hex(),
                "parentHash": "0x" + max(0, number - 1).to_bytes(32, "big").hex(),
                "timestamp": hex(number),
                "transactions": self.blocks[number],
            }
        if method == "eth_getTransactionReceipt":
            number = self.mined.get(params[0])
            if number is None:
                return None
            return {
                "transactionHash": params[0],
                "blockNumber": hex(number),
                "status": "0x1",
                "gasUsed": "0x5208",
                "effectiveGasPrice": "0x3b9aca00",
                "contractAddress": "0x" + params[0][-40:],
            }
        if method == "eth_chainId":
            return "0x7a69"
        if method == "eth_gasPrice":
            return "0x3b9aca00"
        if method == "eth_getBalance":
            return hex(10**30)
        if method == "eth_getTransactionCount":
            return "0x0"
        raise LookupError(method)

    def respond(self, request: dict) -> dict:
        try:
            result = self.answer(request["method"], request.get("params", []))
        except LookupError:
            error = {"code": -32601, "message": f"method not found: {request['method']}"}
            return {"jsonrpc": "2.0", "id": request.get("id"), "error": error}
        return {"jsonrpc": "2.0", "id": request.get("id"), "result": result}


class _Connection(asyncio.Protocol):
    def __init__(self, sink: Sink, number: int):
        self.sink = sink
        self.number = number
        self.buffer = bytearray()
        self.answers = 0
        self.transport = None
        self.done = False

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if self.done:
            return
        self.buffer += data
        while not self.done:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            self.handle(headers, json.loads(body))

    def handle(self, headers: dict, request) -> None:
        sink = self.sink
        sink.requests.append(request)
        sink.hosts.append(headers.get("host"))
        reply = sink.answer(request)
        if reply is None:
            return  # never answered
        body = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
        self.answers += 1
        close = self.number == 1 and self.answers == sink.close_first_after
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        if close:
            head += "Connection: close\r\n"
        if sink.chunked:
            half = len(body) // 2
            payload = b"".join(
                b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:half], body[half:]) if part
            )
            data = (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + payload + b"0\r\n\r\n"
        else:
            data = (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        self.transport.write(data)
        if close:
            # Nothing after this answer is processed on this connection (RFC 9112, 9.6).
            self.done = True
            self.transport.close()


class Sink:
    """See the module docstring. ``url``, ``requests`` (JSON bodies), ``hosts``, ``accepted``."""

    def __init__(
        self,
        answer=None,
        *,
        block_s: float = 0.2,
        chunked: bool = False,
        close_first_after: int | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.chain = SinkChain()
        self.answer = answer or self._chain_answer
        self.chunked = chunked
        self.close_first_after = close_first_after
        self.requests: list = []
        self.hosts: list = []
        self.accepted = 0
        self.block_s = block_s
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ssl_context, ready), daemon=True)
        self.thread.start()
        ready.wait(10)
        scheme = "https" if ssl_context else "http"
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"{scheme}://127.0.0.1:{self.port}"

    def _chain_answer(self, request):
        if isinstance(request, list):
            return [self.chain.respond(r) for r in request]
        return self.chain.respond(request)

    def _connection(self):
        self.accepted += 1
        return _Connection(self, self.accepted)

    def _serve(self, ssl_context, ready) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            self.loop.create_server(self._connection, "127.0.0.1", 0, ssl=ssl_context)
        )
        self.loop.call_later(self.block_s, self._seal)
        ready.set()
        self.loop.run_forever()
        self.server.close()
        self.loop.run_until_complete(self.server.wait_closed())
        self.loop.close()

    def _seal(self) -> None:
        self.chain.seal()
        self.loop.call_later(self.block_s, self._seal)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def tls_pair(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting only it) for a certificate of 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp / "cert.pem").write_bytes(cert_pem)
    (tmp / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client
