"""Run the review application: on this computer only, or shared on the local network.

By default the server listens on 127.0.0.1 and nowhere else; its address
carries a fresh random token each run, so another local user or a web page
cannot guess it. ``listen`` set to another address (an explicit choice)
shares it: every reviewer then logs in, and with a certificate the server
speaks HTTPS. Every decision is committed before the page moves on, so
stopping the server (Ctrl+C) or closing the browser loses nothing.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
import ssl
import threading
import webbrowser
from collections.abc import Callable, Sequence
from pathlib import Path

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

    def log_error(self, format: str, *args: object) -> None:
        # e.g. a browser that spoke plain HTTP to the HTTPS port: nothing the organiser must act on
        log.info(format.rstrip(), *args)


def is_local(address: str) -> bool:
    """Does listening on ``address`` keep the server on this computer?"""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        raise UsageError(f"--listen takes an IP address such as 0.0.0.0 or 192.168.1.20, not {address!r}") from None


class _HandshakeInThread(ssl.SSLContext):
    """A server context whose connections shake hands in their own request thread.

    werkzeug wraps the listening socket with the default, which does the TLS
    handshake inside ``accept``: one client that connects and sends nothing
    (or is slow) would hold every other reviewer waiting. Deferred, the
    handshake happens on the first read, in the thread serving that connection.
    """

    def wrap_socket(
        self,
        sock: socket.socket,
        server_side: bool = False,
        do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = True,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLSocket:
        return super().wrap_socket(
            sock, server_side=server_side, do_handshake_on_connect=False, suppress_ragged_eofs=suppress_ragged_eofs,
            server_hostname=server_hostname, session=session,
        )  # fmt: skip


def _tls(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    if cert is None and key is None:
        return None
    if cert is None:
        raise UsageError("--tls-key needs --tls-cert too")
    for option, path in (("--tls-cert", cert), ("--tls-key", key)):
        if path is not None and not path.is_file():
            raise UsageError(f"{option} {path}: no such file; give the PEM file's path")
    context = _HandshakeInThread(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        what = f"the certificate {cert}" + (f" with the key {key}" if key is not None else "")
        raise UsageError(f"cannot use {what} ({exc}); give a PEM certificate and its own key") from exc
    return context


class ReviewServer:
    """A started (bound) review server; ``url`` is the address to open."""

    def __init__(
        self,
        db_path: Target,
        port: int = 8765,
        reviewer: str | None = None,
        *,
        listen: str = HOST,
        tls_cert: Path | None = None,
        tls_key: Path | None = None,
        host_names: Sequence[str] = (),
        login: bool | None = None,
    ) -> None:
        self.token = secrets.token_urlsafe(32)
        # Beyond this computer every reviewer logs in; ``login`` asks for that on 127.0.0.1 too.
        self.shared = not is_local(listen) if login is None else login
        context = _tls(tls_cert, tls_key)
        names = frozenset(host_names) | (
            {socket.gethostname(), f"{socket.gethostname()}.local"} if self.shared else set()
        )
        self.app = create_app(
            db_path, self.token, reviewer=reviewer, login=self.shared, secure_cookies=context is not None,
            host_names=names,
        )  # fmt: skip
        # Bind here: werkzeug would print and exit on a busy port, and a library never exits.
        listener = socket.socket(socket.AF_INET6 if ":" in listen else socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((listen, port))
            listener.listen(64)
        except OSError as exc:
            listener.close()
            raise UsageError(f"cannot listen on {listen}:{port} ({exc.strerror or exc}); give another --port") from exc
        try:
            self._server: BaseWSGIServer = make_server(
                listen, port, self.app, threaded=True, fd=listener.fileno(), request_handler=_QuietHandler,
                ssl_context=context,
            )  # fmt: skip
        finally:
            listener.close()  # the server holds its own duplicate of the socket
        self.port = int(self._server.socket.getsockname()[1])
        scheme = "https" if context is not None else "http"
        if self.shared:
            shown = socket.gethostname() if listen in ("0.0.0.0", "::") else listen
            self.url = f"{scheme}://{shown}:{self.port}/"
        else:
            self.url = f"{scheme}://{HOST if listen == HOST else listen}:{self.port}/?token={self.token}"

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
    *,
    listen: str = HOST,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    host_names: Sequence[str] = (),
) -> None:
    """Serve the review pages until interrupted.

    ``on_ready`` receives the address (with its token) once the port is bound,
    before the browser is opened; the caller decides how to show it.
    """
    server = ReviewServer(
        db_path, port, reviewer, listen=listen, tls_cert=tls_cert, tls_key=tls_key, host_names=host_names
    )
    try:
        if on_ready is not None:
            on_ready(server.url)
        if open_browser and not server.shared:
            webbrowser.open(server.url)
        server.serve_forever()
    finally:
        server._server.server_close()
