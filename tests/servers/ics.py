"""A calendar server on 127.0.0.1 for the ICS download tests: each path answers as scripted
— a calendar, a status (with `Retry-After`), or a calendar dribbled one byte at a time —
and every request is logged with its arrival time (`time.monotonic()`)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Answer:
    """What one request gets: `status` with `body`; with `dribble`, the answer sent one
    byte every `dribble` seconds (headers too, or only the body); `retry_after` adds that
    header."""

    status: int = 200
    body: bytes = b""
    retry_after: str = ""
    dribble: float = 0.0
    dribble_headers: bool = True  # False: the headers at once, then the body dribbled


@dataclass
class IcsServer:
    root: str = ""
    # path -> answers in order; the last one repeats
    script: dict[str, list[Answer]] = field(default_factory=dict)
    log: list[tuple[str, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, *answers: Answer) -> str:
        with self._lock:
            self.script[path] = list(answers)
        return self.root + path

    def next_answer(self, path: str) -> Answer:
        with self._lock:
            self.log.append((path, time.monotonic()))
            answers = self.script.get(path)
            if not answers:
                return Answer(404, b"not found")
            return answers.pop(0) if len(answers) > 1 else answers[0]

    def hits(self, path: str) -> list[float]:
        with self._lock:
            return [at for p, at in self.log if p == path]


def _handler(server: IcsServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.close_connection = True
            answer = server.next_answer(self.path)
            head = [f"HTTP/1.1 {answer.status} X", f"Content-Length: {len(answer.body)}"]
            head += ["Content-Type: text/calendar", "Connection: close"]
            if answer.retry_after:
                head.append(f"Retry-After: {answer.retry_after}")
            head_bytes = ("\r\n".join(head) + "\r\n\r\n").encode()
            data = head_bytes + answer.body
            if not answer.dribble:
                self.wfile.write(data)
                return
            at_once = 0 if answer.dribble_headers else len(head_bytes)
            self.wfile.write(data[:at_once])
            self.wfile.flush()
            for i in range(at_once, len(data)):  # until the client hangs up or the test ends
                if server.stop.wait(answer.dribble):
                    return
                try:
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                except OSError:
                    return

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def ics_server() -> Iterator[IcsServer]:
    server = IcsServer()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.root = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
