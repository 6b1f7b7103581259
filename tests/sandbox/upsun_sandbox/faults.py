# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fault injection: queued misbehaviours applied to the next matching API requests.

A fault matches a request by method (optional, any when absent) and path (exact, or a prefix when it ends
with "*"). Faults are tried in the order they were queued; the first that matches is used once and dropped
when its count is spent.
"""

import copy
import threading
from dataclasses import asdict, dataclass, field

from .messages import Reply, problem

ACTIONS = ("status", "delay", "latency", "drop", "create_then_drop", "create_later", "create_then_delay", "trickle",
           "reset_after_headers", "reset_in_body", "endless_next", "stuck_next", "unreadable", "endless_chunked",
           "endless_unsized")
# Actions that change what GET /tickets answers (its paging links).
PAGING = ("endless_next", "stuck_next")
# Actions whose answer never ends: chunked, or without a length (its end would be the close).
ENDLESS = ("endless_chunked", "endless_unsized")
# What an "unreadable" fault answers instead of the body, unless its "body" is a string: a proxy's error page.
UNREADABLE_BODY = "<html><head><title>Upstream error</title></head><body><h1>Something went wrong</h1></body></html>"
KEYS = ("action", "path", "method", "count", "status", "retry_after", "location", "delay", "body", "chunk", "interval",
        "create_after")


@dataclass
class Fault:
    """One queued fault; see the README for the meaning of each action."""

    action: str
    path: str
    method: str | None = None
    count: int = 1
    status: int = 500
    retry_after: int | float | str | None = None
    location: str | None = None
    delay: float = 0.0
    body: object = None
    chunk: int = 1
    interval: float = 1.0
    create_after: float = 2.0
    id: int = 0
    hits: int = field(default=0)

    @classmethod
    def from_dict(cls, data: dict) -> "Fault":
        """A fault from the control API's JSON; raises ValueError naming what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(unknown)}")
        action = data.get("action", "status")
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        path = data.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError("path must be a string starting with /")
        method = data.get("method")
        if method is not None and not isinstance(method, str):
            raise ValueError("method must be a string")
        count = data.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("count must be a positive integer")
        status = data.get("status", 500)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status code")
        location = data.get("location")
        if location is not None and (not isinstance(location, str) or not location.strip()):
            raise ValueError("location must be a non-empty string (the Location header of a redirect)")
        delay = _seconds(data, "delay", 1.0 if action in ("delay", "latency", "create_then_delay") else 0.0)
        chunk = data.get("chunk", 65536 if action in ENDLESS else 1)
        if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
            raise ValueError("chunk must be a positive integer (bytes per write)")
        return cls(action=action, path=path, method=method.upper() if method else None, count=count,
                   status=status, retry_after=data.get("retry_after"), location=location, delay=delay,
                   body=data.get("body"), chunk=chunk, interval=_seconds(data, "interval", 0.0 if action in ENDLESS else 1.0),
                   create_after=_seconds(data, "create_after", 2.0))

    @property
    def delay_first(self) -> float:
        """Seconds to wait before processing the request (create_then_delay and latency wait after it instead)."""
        return 0.0 if self.action in ("create_then_delay", "latency") else self.delay

    def delay_after(self, elapsed: float) -> float:
        """Seconds to wait between processing the request and answering, `elapsed` seconds after it arrived.

        latency answers `delay` seconds after the request arrived: the sandbox's own work (about 3 ms of CPU per
        request, and one Python process serialises that work for concurrent requests) counts inside that time,
        as a server's processing does in its response time, instead of on top of it.
        """
        if self.action == "latency":
            return max(self.delay - elapsed, 0.0)
        return self.delay if self.action == "create_then_delay" else 0.0

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request."""
        if self.method is not None and self.method != method.upper():
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    def reply(self) -> Reply:
        """The answer of a "status" fault: a problem body (or the given body), Retry-After and Location if asked."""
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.location is not None:
            headers["Location"] = self.location
        if self.body is not None:
            return Reply(self.status, copy.deepcopy(self.body), "application/problem+json", headers)
        return problem(self.status, f"Injected fault: HTTP {self.status}", headers)

    def to_dict(self) -> dict:
        """The JSON view of the fault, with the remaining count."""
        return asdict(self)


def _seconds(data: dict, key: str, default: float) -> float:
    value = data.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} must be a non-negative number of seconds")
    return float(value)


class FaultQueue:
    """The pending faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, fault: Fault) -> Fault:
        """Queue a fault; return it with its id."""
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
            return copy.deepcopy(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching the request, its count decremented (dropped when spent), or None."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    fault.hits += 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return copy.deepcopy(fault)
        return None

    def pending(self) -> list[dict]:
        """The faults still queued."""
        with self._lock:
            return [fault.to_dict() for fault in self._faults]

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()
