"""HTTP plumbing: a threaded stdlib server that hands requests to the Simulator and can drop
a connection after committing."""

from __future__ import annotations

import contextlib
import email.utils
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .app import Simulator
from .wire import Request

log = logging.getLogger("amdsim")
MAX_BODY = 20 * 1024 * 1024


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], sim: Simulator) -> None:
        super().__init__(address, SimRequestHandler)
        self.sim = sim
        host, port = self.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        sim.base_url = f"http://{host_text}:{port}"

    @property
    def url(self) -> str:
        return self.sim.base_url


class SimRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: SimHTTPServer

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        req = Request(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        resp = self.server.sim.handle(req)
        if resp.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for name, value in resp.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(resp.body)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` header on AMD's clock (offset applied), as a real server would send."""
        if timestamp is None:
            timestamp = self.server.sim.amd_clock.now().timestamp()
        return email.utils.formatdate(timestamp, usegmt=True)

    def log_message(self, format: str, *args: object) -> None:
        # Paths carry only ids and action names; bodies (PHI) are never logged.
        log.debug("%s %s", self.command, urlsplit(self.path).path)


def start_server(
    sim: Simulator, host: str = "127.0.0.1", port: int = 0
) -> tuple[SimHTTPServer, threading.Thread]:
    server = SimHTTPServer((host, port), sim)
    thread = threading.Thread(target=server.serve_forever, name="amdsim", daemon=True)
    thread.start()
    return server, thread
