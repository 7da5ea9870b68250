"""A small HTTP load generator: N threads, one keep-alive connection each, loopback only.

Threads are enough here: each one spends its time waiting on the socket, and the service under
test runs in other processes (gunicorn workers), so the GIL of the generator is not the limit.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field

Request = tuple[str, str, dict, bytes | None]  # method, path, headers, body


@dataclass
class LoadResult:
    """Latencies (seconds) of the answered requests, their statuses and the wall time."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    first_error: str = ""  # the first dropped request's exception, to say why
    seconds: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile latency (nearest rank), in seconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank]


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks it)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, path: str = "/healthz", timeout: float = 30.0) -> None:
    """Poll until the server answers ``path`` (or raise after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", path)
            with connection.getresponse() as response:
                response.read()
            if response.status < 500:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    raise TimeoutError(f"nothing answered on 127.0.0.1:{port}{path} within {timeout} s")


def run_load(
    port: int,
    make_request: Callable[[int, int], Request],
    *,
    connections: int = 16,
    requests_per_connection: int = 100,
    timeout: float = 30.0,
) -> LoadResult:
    """Send ``connections × requests_per_connection`` requests, ``connections`` at a time.

    ``make_request(connection_index, request_index)`` builds each request. Bounded in count,
    and each request in time; a dropped connection is reopened and counted as an error.
    """
    result = LoadResult()
    lock = threading.Lock()
    start_gate = threading.Barrier(connections + 1)

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        latencies, statuses, errors, first_error = [], {}, 0, ""
        start_gate.wait()
        try:
            for n in range(requests_per_connection):
                method, path, headers, body = make_request(index, n)
                began = time.perf_counter()
                try:
                    connection.request(method, path, body=body, headers=headers)
                    with connection.getresponse() as response:
                        response.read()
                except (OSError, http.client.HTTPException) as error:
                    errors += 1
                    first_error = first_error or f"{type(error).__name__}: {error}"
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                    continue
                latencies.append(time.perf_counter() - began)
                statuses[response.status] = statuses.get(response.status, 0) + 1
        finally:
            connection.close()  # whatever happened, no socket is left for the garbage collector
        with lock:
            result.latencies.extend(latencies)
            result.errors += errors
            result.first_error = result.first_error or first_error
            for status, count in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + count

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def json_request(method: str, path: str, payload: dict | None, headers: dict | None = None) -> Request:
    body = None if payload is None else json.dumps(payload).encode()
    merged = {"Content-Type": "application/json", **(headers or {})}
    return method, path, merged, body
