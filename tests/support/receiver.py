"""A webhook receiver on loopback that counts what it gets by `webhook-id`.

It runs in a thread (an `http.server`), so it answers whatever event loop the
test or the processes under test are busy with. It can fail the first N
attempts of each message, to exercise retries, and hold every request (read, counted,
unanswered) while `hold` is set, so a test can catch a sender with claims in flight.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Received:
    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    fail_first: int = 0
    hold: threading.Event = field(default_factory=threading.Event)
    received: list[Received] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    # The requests in hand, by the port they came from (see `sender_pid`).
    holding: dict[int, str] = field(default_factory=dict)
    _released: threading.Event = field(default_factory=threading.Event)
    _closing: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: nothing left open

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                webhook_id = self.headers.get("webhook-id", "")
                sender_port = int(self.client_address[1])
                with receiver._lock:
                    receiver.attempts[webhook_id] += 1
                    receiver.holding[sender_port] = webhook_id
                while receiver.hold.is_set() and not receiver._closing.is_set():
                    receiver._released.wait(0.05)
                with receiver._lock:
                    receiver.holding.pop(sender_port, None)
                with receiver._lock:
                    failing = receiver.attempts[webhook_id] <= receiver.fail_first
                    if not failing:
                        receiver.received.append(
                            Received(
                                webhook_id,
                                self.headers.get("webhook-timestamp", ""),
                                self.headers.get("webhook-signature", ""),
                                body,
                                time.time(),
                            )
                        )
                self.send_response(500 if failing else 204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def release(self) -> None:
        """Stop holding: requests held and to come are answered."""
        self.hold.clear()
        self._released.set()

    def resent(self) -> int:
        """How many requests repeated a `webhook-id` the receiver had already seen."""
        with self._lock:
            return sum(n - 1 for n in self.attempts.values())

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def by_id(self) -> Counter[str]:
        """How many successful deliveries each webhook-id had (a retry after a crash adds one)."""
        with self._lock:
            return Counter(r.webhook_id for r in self.received)

    def distinct(self) -> int:
        return len(self.by_id())


def sender_pid(port: int, pids: list[int]) -> int | None:
    """Which of `pids` has the loopback TCP socket on local `port` (Linux `/proc`): the
    process that sent a request the receiver is holding."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        for fd in fds.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return pid
    return None
