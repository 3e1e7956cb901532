"""Loopback HTTP endpoints for tests (a fake or hostile OpenAI-compatible LLM server): stdlib only."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that does not log, with the hostile replies the tests share."""

    def log_message(self, *a):
        pass

    def redirect(self, status: int, location: str) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def drip(self, n: int, every: float) -> None:
        """Promise a long body, then send one byte every ``every`` seconds: a per-read timeout never fires."""
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        for _ in range(n):
            self.wfile.write(b" ")
            self.wfile.flush()
            time.sleep(every)


@contextmanager
def loopback_server(handler: type[BaseHTTPRequestHandler], path: str = "/v1"):
    """Serve ``handler`` on a free 127.0.0.1 port in a daemon thread; yields its base URL (+ ``path``)."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}{path}"
    finally:
        srv.shutdown()
        srv.server_close()
