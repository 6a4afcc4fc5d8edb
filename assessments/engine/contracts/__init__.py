"""The small contracts the probes deploy, compiled ahead of time (see build.js).

``artifacts.json`` holds each contract's ABI, creation bytecode and runtime bytecode,
compiled by the npm ``solc`` pinned in package.json; ``npm run contracts`` rebuilds it.
"""

import functools
import json
from pathlib import Path

from eth_utils import function_signature_to_4byte_selector

ARTIFACTS = Path(__file__).with_name("artifacts.json")


@functools.cache
def _artifacts() -> dict:
    return json.loads(ARTIFACTS.read_text())["contracts"]


def bytecode(name: str) -> str:
    """Creation bytecode (hex with 0x) of contract ``name``."""
    return _artifacts()[name]["bytecode"]


def runtime_bytecode(name: str) -> str:
    """The code a deployed contract ``name`` must carry (eth_getCode answers it)."""
    return _artifacts()[name]["deployedBytecode"]


def abi(name: str) -> list:
    return _artifacts()[name]["abi"]


def call_data(signature: str, *words: int) -> str:
    """ABI-encoded call data for a function taking only uint256 words, e.g. ``clear(uint256)``."""
    selector = function_signature_to_4byte_selector(signature)
    return "0x" + selector.hex() + "".join(f"{w:064x}" for w in words)
