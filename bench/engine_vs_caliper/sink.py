"""A JSON-RPC sink that is never the bottleneck, for measuring the generator's own ceiling.

Run as its own process: ``python sink.py PORT [BLOCK_SECONDS]``. A plain asyncio HTTP/1.1
server (keep-alive, pipelining, single and batch requests) on an asyncio ``Protocol`` that
answers ``eth_sendRawTransaction`` at once with the transaction's hash, and just enough of
the rest of the Ethereum JSON-RPC interface for the clearing suite to run unchanged: every
account is rich and at nonce 0,
every transaction received is "mined" successfully into the next block, and a block is
made every BLOCK_SECONDS (default 0.2). Nothing is validated or executed.
"""

from __future__ import annotations

import asyncio
import json
import sys

from eth_hash.auto import keccak

RICH = hex(10**30)
GAS_PRICE = hex(10**9)


class Chain:
    def __init__(self):
        self.height = 0
        self.blocks: list[list[str]] = [[]]
        self.pending: list[str] = []
        self.mined: dict[str, int] = {}

    def seal(self) -> None:
        self.height += 1
        self.blocks.append(self.pending)
        for h in self.pending:
            self.mined[h] = self.height
        self.pending = []

    def block(self, number: int) -> dict | None:
        if number > self.height:
            return None
        return {
            "number": hex(number),
            "hash": "0x" + number.to_bytes(32, "big").hex(),
            "parentHash": "0x" + max(0, number - 1).to_bytes(32, "big").hex(),
            "timestamp": hex(number),
            "transactions": self.blocks[number],
        }

    def answer(self, method: str, params: list):
        if method == "eth_sendRawTransaction":
            raw = bytes.fromhex(params[0][2:])
            digest = "0x" + keccak(raw).hex()
            self.pending.append(digest)
            return digest
        if method == "eth_blockNumber":
            return hex(self.height)
        if method == "eth_getBlockByNumber":
            tag = params[0]
            return self.block(self.height if tag == "latest" else int(tag, 16))
        if method == "eth_getTransactionReceipt":
            number = self.mined.get(params[0])
            if number is None:
                return None
            return {
                "transactionHash": params[0],
                "blockNumber": hex(number),
                "status": "0x1",
                "gasUsed": "0x5208",
                "effectiveGasPrice": GAS_PRICE,
                "contractAddress": "0x" + params[0][-40:],
            }
        if method == "eth_chainId":
            return "0x7a69"
        if method == "eth_gasPrice":
            return GAS_PRICE
        if method == "eth_getBalance":
            return RICH
        if method == "eth_getTransactionCount":
            return "0x0"
        raise LookupError(method)


def respond(chain: Chain, request: dict) -> dict:
    try:
        result = chain.answer(request["method"], request.get("params", []))
        return {"jsonrpc": "2.0", "id": request.get("id"), "result": result}
    except LookupError as exc:
        error = {"code": -32601, "message": f"method not found: {exc}"}
        return {"jsonrpc": "2.0", "id": request.get("id"), "error": error}


class Sink(asyncio.Protocol):
    """One client connection: every complete request in a read is answered in one write.

    Requests may be pipelined; answers go back in order. Only ``Content-Length`` bodies are
    read (what every JSON-RPC client sends). ``eth_sendRawTransaction``, nearly all of the
    traffic, takes a short path: its answer is formatted without building a dict.
    """

    def __init__(self, chain: Chain):
        self.chain = chain
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        pos, out = 0, []
        while True:
            end = buf.find(b"\r\n\r\n", pos)
            if end < 0:
                break
            head = bytes(buf[pos:end]).lower()
            at = head.find(b"content-length:")
            length = 0
            if at >= 0:
                stop = head.find(b"\r\n", at)
                length = int(head[at + 15 : stop if stop >= 0 else None])
            if len(buf) < end + 4 + length:
                break
            body = bytes(buf[end + 4 : end + 4 + length])
            pos = end + 4 + length
            answer = self.answer(body)
            out.append(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(answer)).encode()
                + b"\r\n\r\n"
                + answer
            )
        if pos:
            del buf[:pos]
        if out:
            self.transport.write(b"".join(out))

    def answer(self, body: bytes) -> bytes:
        payload = json.loads(body)
        if isinstance(payload, dict) and payload.get("method") == "eth_sendRawTransaction":
            digest = self.chain.answer("eth_sendRawTransaction", payload["params"])
            return b'{"jsonrpc":"2.0","id":%s,"result":"%s"}' % (
                json.dumps(payload.get("id")).encode(),
                digest.encode(),
            )
        if isinstance(payload, list):
            return json.dumps([respond(self.chain, r) for r in payload]).encode()
        return json.dumps(respond(self.chain, payload)).encode()


async def main(port: int, block_s: float) -> None:
    chain = Chain()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Sink(chain), "127.0.0.1", port, backlog=1024)
    async with server:
        while True:
            await asyncio.sleep(block_s)
            chain.seal()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.2))
