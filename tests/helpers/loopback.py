"""Loopback HTTP for the download tests: a server thread on 127.0.0.1, and a URL nobody answers."""

from __future__ import annotations

import http.server
import socket
import threading


class LoopbackServer:
    """Serves ``handler`` on 127.0.0.1 (a free port) in a daemon thread until ``stop()``."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join()


def closed_port_url() -> str:
    """A loopback URL nobody listens on: a fetch from it fails at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
