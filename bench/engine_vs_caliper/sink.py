"""A JSON-RPC sink that is never the bottleneck, for measuring the generator's own ceiling.

Run as its own process: ``python sink.py PORT [BLOCK_SECONDS]``. A plain asyncio HTTP/1.1
server (keep-alive, single and batch requests) that answers ``eth_sendRawTransaction`` at
once with the transaction's hash, and just enough of the rest of the Ethereum JSON-RPC
interface for the clearing suite to run unchanged: every account is rich and at nonce 0,
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


async def serve(chain: Chain, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            payload = json.loads(await reader.readexactly(length))
            if isinstance(payload, list):
                answer = [respond(chain, r) for r in payload]
            else:
                answer = respond(chain, payload)
            body = json.dumps(answer).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int, block_s: float) -> None:
    chain = Chain()
    server = await asyncio.start_server(
        lambda r, w: serve(chain, r, w), "127.0.0.1", port, backlog=1024
    )
    async with server:
        while True:
            await asyncio.sleep(block_s)
            chain.seal()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.2))
