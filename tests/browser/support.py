"""Helpers shared by the site tests: a disposable copy of the repository and a local server."""
from __future__ import annotations

import functools
import http.server
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import ROOT, TEMPLATE
_ORG_DATA = ("policy.yml", "calendar.yml", "recipients.txt", "cases", "schema", "mkdocs.yml", "site")

# What a build needs; the rest (the venv, git, earlier builds, generated files) stays behind.
_SKIP = {".venv", ".git", "public", "test-artifacts", ".cache", ".mypy_cache", ".pytest_cache", ".hypothesis",
         "__pycache__", "generated", "tests", "benchmarks", "site-build", "build"}


def copy_repository(target: Path) -> Path:
    """A copy of the repository's sources in TARGET: the tool from the checkout, the
    organisation's data (policy, calendar, schemas, cases, site pages) from the frozen template."""
    skip = _SKIP | set(_ORG_DATA)
    shutil.copytree(ROOT, target, ignore=lambda _dir, names: [n for n in names if n in skip or n.endswith(".egg-info")])
    for name in _ORG_DATA:
        source = TEMPLATE / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        elif source.exists():
            shutil.copy2(source, target / name)
    return target


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # As GitHub Pages does: a missing address gets the site's own 404.html, status 404.
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    """A browser that leaves a page drops the requests still being answered: that is not an
    error of the site (any other exception is still printed)."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve FOLDER on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def recording_page(browser: Any, **options: Any) -> Iterator[Any]:
    """A fresh page (service workers blocked) that records every request it makes, as
    `page.requested`, so a test can assert that none leaves the local server."""
    context = browser.new_context(service_workers="block", **options)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.requested = requested
    try:
        yield page
    finally:
        context.close()


# The age library the online form vendors (site/zh/assets/vendor/, README: Online complaints),
# pinned by content: a new version is a deliberate change of this hash.
AGE_BUNDLE = "assets/vendor/age-encryption-0.3.1.min.js"
AGE_BUNDLE_SHA256 = "bb784942cdfac7a70f83d3c0826812c97c679238af912ce0860f99652db2dea9"
