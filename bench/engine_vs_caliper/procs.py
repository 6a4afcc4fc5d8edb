"""Processes for the benchmark: free ports, the Hardhat node, and CPU accounting.

CPU time is read from ``/proc/<pid>/stat`` (utime + stime) for a process and all its
descendants, sampled on a background thread, so the CPU a load generator spent inside a
time window (its sending phase) can be told apart from start-up and reporting. A child
that exits keeps the last value seen for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rpc(url: str, method: str, *params) -> object:
    """One blocking JSON-RPC call over HTTP (the runner's own set-up reads only)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def start_hardhat(port: int, log: Path, block_ms: int = 1000) -> subprocess.Popen:
    """A fresh Hardhat node on 127.0.0.1:``port`` with interval mining; waits until it answers."""
    binary = REPO / "node_modules" / ".bin" / "hardhat"
    if not binary.exists():
        raise SystemExit("node_modules/.bin/hardhat is missing: run `npm ci` at the repo root")
    env = {**os.environ, "HARDHAT_BLOCK_MS": str(block_ms), "HARDHAT_AUTOMINE": "false"}
    process = subprocess.Popen(
        [str(binary), "node", "--hostname", "127.0.0.1", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the Hardhat node exited at start; see {log}")
        try:
            rpc(url, "eth_blockNumber")
            return process
        except OSError:
            time.sleep(0.3)
    stop(process)
    raise SystemExit(f"the Hardhat node did not answer within 60 s; see {log}")


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate a process this runner started (and its session), then wait for it."""
    if process.poll() is not None:
        end_group(process)
        return
    try:
        os.killpg(process.pid, 15)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()


def end_group(process: subprocess.Popen) -> None:
    """End what is left of the session of a process that has exited (Caliper's workers)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, 15)


def _cpu_of(pid: int) -> float | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found.extend(int(c) for c in text)
    except OSError:
        pass
    return found


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


class CpuSampler:
    """Samples the CPU seconds of a process tree every ``interval`` seconds.

    ``samples`` is a list of (wall time, monotonic time, CPU seconds of the tree so far).
    """

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, float, float]] = []
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            for pid in descendants(self.pid):
                value = _cpu_of(pid)
                if value is not None:
                    self._last[pid] = value
            self.samples.append((time.time(), time.monotonic(), sum(self._last.values())))
            if self._stop.wait(self.interval):
                return

    def between(self, start: float, end: float, clock: str = "wall") -> float | None:
        """CPU seconds spent from ``start`` to ``end`` (interpolated between samples)."""
        index = 0 if clock == "wall" else 1
        points = [(s[index], s[2]) for s in self.samples]
        if len(points) < 2 or end <= start:
            return None
        return _at(points, end) - _at(points, start)


def _at(points: Sequence[tuple[float, float]], t: float) -> float:
    if t <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in zip(points, points[1:], strict=False):
        if t0 <= t <= t1:
            return v0 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return points[-1][1]
