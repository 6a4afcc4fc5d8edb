"""The independent block observer: when did each transaction first appear in a block?

Run as its own process (``python observer.py ws://127.0.0.1:PORT OUT.jsonl``). It shares no
code with the engine (plain ``websockets``, its own JSON-RPC framing): it subscribes to
``newHeads``, stamps each head the moment its notification arrives (wall clock and the
system-wide monotonic clock), then fetches the block's transaction hashes. A height it
never heard of (a head skipped by the subscription, or found by asking for the head after
SILENCE_S seconds without one) is fetched by number and stamped when found, marked
``late``. The subscription is renewed every RESUBSCRIBE_S seconds. Each line of OUT is
``{"n": height, "hash": block hash, "wall": s, "mono": s, "late": bool, "txs": [hashes]}``,
flushed per block. SIGTERM ends it cleanly.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import sys
import time

import websockets

RESUBSCRIBE_S = 60.0
SILENCE_S = 3.0


class Observer:
    def __init__(self, url: str, out):
        self.url = url
        self.out = out
        self.ids = itertools.count(1)
        self.waiting: dict[int, asyncio.Future] = {}
        self.heads: asyncio.Queue = asyncio.Queue()
        self.last_height: int | None = None

    async def call(self, ws, method: str, *params):
        rid = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.waiting[rid] = future
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}))
        answer = await asyncio.wait_for(future, 30)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    async def reader(self, ws) -> None:
        async for message in ws:
            wall, mono = time.time(), time.monotonic()
            data = json.loads(message)
            if data.get("method") == "eth_subscription":
                head = data["params"]["result"]
                await self.heads.put((int(head["number"], 16), wall, mono))
            elif data.get("id") in self.waiting:
                self.waiting.pop(data["id"]).set_result(data)

    async def record(self, ws, height: int, wall: float, mono: float, late: bool = False):
        block = await self.call(ws, "eth_getBlockByNumber", hex(height), False)
        if block is None:
            return
        line = {"n": height, "hash": block["hash"], "wall": wall, "mono": mono, "late": late}
        line["txs"] = block.get("transactions", [])
        self.out.write(json.dumps(line) + "\n")
        self.out.flush()

    async def run(self, stop: asyncio.Event) -> None:
        async with websockets.connect(self.url, max_size=None, ping_interval=None) as ws:
            reading = asyncio.create_task(self.reader(ws))
            subscription = await self.call(ws, "eth_subscribe", "newHeads")
            subscribed = time.monotonic()
            self.last_height = int(await self.call(ws, "eth_blockNumber"), 16)
            while not stop.is_set():
                if reading.done():
                    raise RuntimeError(f"the connection ended: {reading.exception()!r}")
                if time.monotonic() - subscribed > RESUBSCRIBE_S:
                    # Hardhat (EDR) stops a subscription after about five minutes.
                    fresh = await self.call(ws, "eth_subscribe", "newHeads")
                    await self.call(ws, "eth_unsubscribe", subscription)
                    subscription, subscribed = fresh, time.monotonic()
                try:
                    height, wall, mono = await asyncio.wait_for(self.heads.get(), SILENCE_S)
                    late = False
                except TimeoutError:
                    # No head for a while: ask, so a lost subscription loses no block.
                    height = int(await self.call(ws, "eth_blockNumber"), 16)
                    wall, mono, late = time.time(), time.monotonic(), True
                for missed in range(self.last_height + 1, height):
                    await self.record(ws, missed, time.time(), time.monotonic(), late=True)
                if height > self.last_height:
                    await self.record(ws, height, wall, mono, late=late)
                    self.last_height = height
            reading.cancel()


async def main(url: str, path: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    with open(path, "w") as out:
        await Observer(url, out).run(stop)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
