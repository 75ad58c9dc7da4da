"""Run the review application on this computer only.

The server listens on 127.0.0.1 and nowhere else; its address carries a fresh
random token each run, so another local user or a web page cannot guess it.
Every decision is committed before the page moves on, so stopping the server
(Ctrl+C) or closing the browser loses nothing.
"""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import webbrowser
from collections.abc import Callable

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from petitionscan.errors import UsageError
from petitionscan.review.app import create_app
from petitionscan.store import Target

HOST = "127.0.0.1"
log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """Logs requests at debug level and without the query (the first one holds the key)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s -> %s", self.command, self.path.split("?", 1)[0], code)


class ReviewServer:
    """A started (bound) review server; ``url`` is the address to open."""

    def __init__(self, db_path: Target, port: int = 8765, reviewer: str | None = None) -> None:
        self.token = secrets.token_urlsafe(32)
        self.app = create_app(db_path, self.token, reviewer=reviewer)
        # Bind here: werkzeug would print and exit on a busy port, and a library never exits.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((HOST, port))
            listener.listen(64)
        except OSError as exc:
            listener.close()
            raise UsageError(f"cannot listen on {HOST}:{port} ({exc.strerror or exc}); give another --port") from exc
        try:
            self._server: BaseWSGIServer = make_server(
                HOST, port, self.app, threaded=True, fd=listener.fileno(), request_handler=_QuietHandler
            )
        finally:
            listener.close()  # the server holds its own duplicate of the socket
        self.port = int(self._server.socket.getsockname()[1])
        self.url = f"http://{HOST}:{self.port}/?token={self.token}"

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def start_in_thread(self) -> threading.Thread:
        """Serve in a background thread (used by tests and embedding programs)."""
        thread = threading.Thread(target=self.serve_forever, name="petitionscan-review", daemon=True)
        thread.start()
        return thread

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve(
    db_path: Target,
    port: int = 8765,
    open_browser: bool = True,
    reviewer: str | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the review pages until interrupted.

    ``on_ready`` receives the address (with its token) once the port is bound,
    before the browser is opened; the caller decides how to show it.
    """
    server = ReviewServer(db_path, port, reviewer)
    try:
        if on_ready is not None:
            on_ready(server.url)
        if open_browser:
            webbrowser.open(server.url)
        server.serve_forever()
    finally:
        server._server.server_close()
