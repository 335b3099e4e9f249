"""A programmable HTTP server on 127.0.0.1 for crawler tests (no network)."""

from __future__ import annotations

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.web.site_server import Route, Site


@pytest.fixture
def site():
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802
            with state.lock:
                state.log.append((self.path, time.monotonic()))
                route = state.routes.get(self.path)
                transient = route is not None and route.fail_first > 0
                if transient:
                    route.fail_first -= 1
            if route is None:
                route = Route(status=404, body=b"<html><body>not found</body></html>")
            if route.delay:
                time.sleep(route.delay)
            status = 503 if transient else route.status
            self.send_response(status)
            for k, v in route.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(route.body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}/"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def crawl_settings():
    """Fast, loopback-allowed crawl settings; override fields per test with dataclasses.replace."""
    from pipeline.jobs.crawl import CrawlConfig, settings_from

    def make(**kw):
        base = dict(min_delay=0.0, allow_networks=["127.0.0.1/32"], max_retries=2, backoff_base=0.05,
                    max_seconds=5.0, connect_timeout=2.0, concurrency=4)
        return settings_from(CrawlConfig(**{**base, **kw}))

    return make
