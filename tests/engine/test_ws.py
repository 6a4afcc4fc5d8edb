"""JSON-RPC over WebSocket: calls, batches, new-head subscriptions, the same guard."""

import asyncio

import pytest

from assessments.engine.errors import EndpointRefused, RpcError
from assessments.engine.ws import WsRpcClient
from tests.engine.helpers import Listener


def ws_url(node):
    return node.url.replace("http://", "ws://")


def test_it_calls_and_batches_over_a_websocket(chain):
    url = ws_url(chain)

    async def scenario():
        async with WsRpcClient(url, allowed=[url]) as client:
            chain_id = await client.call("eth_chainId")
            number, block = await client.batch(
                [("eth_blockNumber", ()), ("eth_getBlockByNumber", ("0x0", False))]
            )
            with pytest.raises(RpcError):
                await client.call("eth_noSuchMethod")
            return chain_id, number, block

    chain_id, number, block = asyncio.run(scenario())
    assert int(chain_id, 16) == chain.chain_id
    assert int(number, 16) >= 0 and block["number"] == "0x0"


def test_it_follows_new_heads_without_polling(interval_chain):
    url = ws_url(interval_chain)

    async def scenario():
        heads = []
        async with WsRpcClient(url, allowed=[url]) as client:
            async with asyncio.timeout(10):
                async for head in client.subscribe("newHeads"):
                    heads.append(int(head["number"], 16))
                    if len(heads) == 2:
                        break
        return heads

    first, second = asyncio.run(scenario())
    assert second == first + 1


def test_it_refuses_a_websocket_outside_the_allow_list_without_connecting():
    listener = Listener()
    url = listener.url.replace("http://", "ws://")
    try:
        with pytest.raises(EndpointRefused):
            WsRpcClient(url, allowed=["ws://127.0.0.1:1"])
        with pytest.raises(EndpointRefused, match="ws://"):
            WsRpcClient(listener.url, allowed=[listener.url])
        assert listener.accepted() == 0
    finally:
        listener.close()


def test_it_refuses_a_link_local_websocket():
    url = "ws://169.254.169.254:8546"
    with pytest.raises(EndpointRefused, match="metadata"):
        WsRpcClient(url, allowed=[url])
