"""The Flask application behind ``petitionscan review``.

Safety rules, enforced for every request before any route runs:

* the Host header must name this machine (127.0.0.1, localhost, ::1), which
  stops pages on other sites from reaching the server by DNS tricks;
* the per-run token must come with the request, in the address (first visit)
  or in the cookie that visit sets;
* every request that changes something must also carry the token in a header
  (``X-Petitionscan-Token``), which another site's page cannot add, so the
  cookie alone never authorises a write (CSRF);
* only the database is served: crops come from rows, page pictures from a
  sheet's scan (both looked up by number), the few static files are read
  once from the package by fixed names.

A shared server (``--listen`` beyond this computer) replaces the per-run
token with a login per reviewer: the session cookie identifies the reviewer
(who then signs every decision, and cannot type another name), the
session's own key goes in the header of every write, and the Host header
may also be an IP address or this machine's name. Queue rows are then
leased in the database, so reviewers on any server sharing a PostgreSQL
campaign are handed different rows.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import queue as queues
import secrets
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, abort, g, jsonify, redirect, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response as BaseResponse

from petitionscan import reviewers
from petitionscan.errors import PetitionscanError, UsageError
from petitionscan.review import images, pages, queries
from petitionscan.store import Connection, PgConnection, Target, connect, is_url

TOKEN_HEADER = "X-Petitionscan-Token"
MAX_REQUEST_BYTES = 64 * 1024
"""Largest request body: a decision is a few hundred bytes; more is refused (413) unread."""
MAX_ID = 2**63 - 1
"""Largest row or sheet number SQLite can hold; a longer number in an address is no such row."""
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
STATIC_FILES = ("style.css", "common.js", "translit.js", "queue.js", "sheet.js", "duplicates.js")
# A row shown to one browser is kept out of other browsers' queues this long.
LEASE_SECONDS = 120.0
SESSION_SECONDS = 12 * 3600.0
"""A login lasts a working day; then the reviewer logs in again."""
LOGGED_OUT = "your login has ended, so this was not saved: log in again"
"""The answer to an API call without a live session (expired, logged out, or the server restarted)."""
LOGIN_FAILURES = 5
"""Wrong passwords in a row for one name before that name must wait LOGIN_PAUSE seconds."""
LOGIN_PAUSE = 60.0
POOL_SIZE = 8
"""PostgreSQL connections kept open between requests (opening one costs more than a query)."""
log = logging.getLogger(__name__)
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


class _Leases:
    """Which browser tab currently shows which queue row (in memory, per server).

    Without it two volunteers on the same server would be handed the same
    least-confident row and collide on every decision; the version check
    stays the real guard, this only spreads the work.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, tuple[str, float]] = {}

    def others(self, client: str) -> frozenset[int]:
        now = time.monotonic()
        with self._lock:
            self._held = {r: (c, t) for r, (c, t) in self._held.items() if t > now}
            return frozenset(r for r, (c, _) in self._held.items() if c != client)

    def take(self, client: str, rows: list[int]) -> None:
        until = time.monotonic() + LEASE_SECONDS
        with self._lock:
            for row in rows:
                self._held[row] = (client, until)

    def release(self, row: int) -> None:
        with self._lock:
            self._held.pop(row, None)


class _Session:
    """One reviewer's login: who, the key their page sends with every write, until when."""

    def __init__(self, reviewer: str) -> None:
        self.reviewer = reviewer
        self.key = secrets.token_urlsafe(32)
        self.until = time.monotonic() + SESSION_SECONDS


class _Logins:
    """Sessions and failed attempts, in memory: a restart logs everyone out, nothing leaks to disk."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._failures: dict[str, tuple[int, float]] = {}

    def start(self, reviewer: str) -> tuple[str, _Session]:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[sid] = _Session(reviewer)
            self._failures.pop(reviewer, None)
            return sid, self._sessions[sid]

    def find(self, sid: str | None) -> _Session | None:
        if not sid:
            return None
        with self._lock:
            found = self._sessions.get(sid)
            if found is not None and found.until < time.monotonic():
                del self._sessions[sid]
                return None
            return found

    def end(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)

    def paused(self, name: str) -> bool:
        with self._lock:
            count, since = self._failures.get(name, (0, 0.0))
            return count >= LOGIN_FAILURES and time.monotonic() - since < LOGIN_PAUSE

    def failed(self, name: str) -> None:
        with self._lock:
            count, _ = self._failures.get(name, (0, 0.0))
            self._failures[name] = (count + 1, time.monotonic())


class _Pool:
    """Open PostgreSQL connections reused across requests; SQLite opens one per request as before."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._idle: queues.SimpleQueue[Connection] = queues.SimpleQueue()

    def get(self) -> Connection:
        try:
            return self._idle.get_nowait()
        except queues.Empty:
            return connect(self.target, create=False)

    def put(self, conn: Connection, failed: bool) -> None:
        idle = isinstance(conn, PgConnection) and conn.raw.info.transaction_status == 0
        if idle and not failed and self._idle.qsize() < POOL_SIZE:
            self._idle.put(conn)
        else:
            conn.close()


def create_app(
    db_path: Target,
    token: str,
    *,
    reviewer: str | None = None,
    login: bool = False,
    secure_cookies: bool = False,
    host_names: frozenset[str] = frozenset(),
) -> Flask:
    """Build the review application for one database and one run's token.

    ``reviewer`` is the name used until the volunteer types another one.
    With ``login`` (a shared server) every reviewer logs in instead and
    ``host_names`` are the names besides IP addresses it answers to.
    The database must exist (review never creates an empty campaign).
    """
    with closing(connect(db_path, create=False)) as first:  # fail early: missing, damaged or newer database
        if login and reviewers.count_reviewers(first) == 0:
            raise UsageError("a shared review server needs reviewers: add one with 'petitionscan reviewers add NAME'")
    app = Flask(__name__, static_folder=None)
    app.url_map.converters["int"] = _RowNumber
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.config["DB_PATH"] = db_path
    app.config["TOKEN"] = token
    app.config["DEFAULT_REVIEWER"] = queries.clean_reviewer(reviewer) if reviewer else None
    suffix = hashlib.sha256(token.encode()).hexdigest()[:10]
    token_cookie = f"ps_token_{suffix}"
    reviewer_cookie = f"ps_reviewer_{suffix}"
    package = resources.files("petitionscan.review") / "static"
    static = {name: (package / name).read_bytes() for name in STATIC_FILES}
    static_tags = {name: hashlib.sha256(data).hexdigest()[:16] for name, data in static.items()}
    leases = _Leases()
    # Where reviewers can meet beyond this one process, rows are leased in the database.
    shared_leases = login or is_url(db_path)
    logins = _Logins()
    session_cookie = f"ps_session_{suffix}"
    pool = _Pool(db_path)
    allowed_hosts = LOCAL_HOSTS | {h.lower() for h in host_names}

    def host_ok() -> bool:
        host = _hostname(request.host).lower()
        if host in allowed_hosts:
            return True
        if not login:
            return False
        try:  # an address cannot be rebound by DNS: any IP literal is this server as the client sees it
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return False
        return True

    def token_ok(candidate: str | None) -> bool:
        return bool(candidate) and secrets.compare_digest(str(candidate).encode(), token.encode())

    def current_reviewer() -> str | None:
        if login:
            return str(g.session.reviewer) if g.get("session") else None
        typed = request.cookies.get(reviewer_cookie)
        if typed:
            try:
                return queries.clean_reviewer(typed)
            except PetitionscanError:
                return app.config["DEFAULT_REVIEWER"]
        return app.config["DEFAULT_REVIEWER"]

    def db() -> Connection:
        if "conn" not in g:
            g.conn = pool.get()
        return g.conn

    def error(status: int, message: str, **extra: Any) -> Response:
        response = jsonify(error=message, **extra)
        response.status_code = status
        return response

    @app.teardown_appcontext
    def close_db(exc: BaseException | None) -> None:
        conn = g.pop("conn", None)
        if conn is not None:
            pool.put(conn, failed=exc is not None)

    @app.before_request
    def guard() -> BaseResponse | None:
        if not host_ok():
            if login:
                return _plain(403, "Open this server by its IP address or by a name given with --host-name.")
            return _plain(403, "This review server only answers on this computer (127.0.0.1).")
        if login:
            return login_guard()
        from_query = request.args.get("token")
        if not (token_ok(from_query) or token_ok(request.cookies.get(token_cookie))):
            return _plain(
                403,
                "This page needs the key in the address printed by `petitionscan review`. "
                "Open that address (it ends with ?token=...).",
            )
        if request.method not in ("GET", "HEAD"):
            if not token_ok(request.headers.get(TOKEN_HEADER)):
                return error(403, "missing or wrong request key; reload the page")
            origin = request.headers.get("Origin")
            if origin and origin != request.host_url.rstrip("/"):
                return error(403, "requests from other sites are refused")
        g.set_token_cookie = token_ok(from_query)
        if (
            g.set_token_cookie
            and request.method == "GET"
            and not request.path.startswith(("/api/", "/crop/", "/page/"))
        ):
            # Take the key out of the address bar (and of any later Referer) once the cookie holds it.
            args = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
            target = request.path + ("?" + urlencode(args) if args else "")
            response = redirect(target if _safe_local(target) else "/", code=303)
            _set_token_cookie(response)
            return response
        return None

    def _set_token_cookie(response: BaseResponse) -> None:
        response.set_cookie(token_cookie, token, httponly=True, samesite="Strict", path="/")

    def other_site() -> bool:
        origin = request.headers.get("Origin")
        if origin == "null" and request.path in ("/login", "/logout"):
            # The pages' no-referrer policy makes browsers send "null" with a form; /logout also needs the key.
            return False
        return bool(origin) and origin != request.host_url.rstrip("/")

    def login_guard() -> BaseResponse | None:
        """Every request of a shared server: a valid session; writes also carry its key."""
        if request.path == "/login":
            if request.method not in ("GET", "HEAD") and other_site():
                return _plain(403, "Requests from other sites are refused.")
            return None
        g.session = logins.find(request.cookies.get(session_cookie))
        if g.session is None:
            if request.path.startswith("/api/"):
                return error(401, LOGGED_OUT)
            if request.method in ("GET", "HEAD"):
                return redirect("/login", code=303)
            return _plain(401, "Your login has ended; log in again.")
        if request.method not in ("GET", "HEAD"):
            sent = request.headers.get(TOKEN_HEADER) or request.form.get("key")
            if not (sent and secrets.compare_digest(sent.encode(), g.session.key.encode())):
                return error(403, "missing or wrong request key; reload the page")
            if other_site():
                return error(403, "requests from other sites are refused")
        return None

    @app.route("/login", methods=["GET", "POST"])
    def login_page() -> BaseResponse | str:
        if not login:
            abort(404)
        message = ""
        if request.method == "POST":
            name = str(request.form.get("name", ""))[:200]
            password = str(request.form.get("password", ""))[:200]
            if logins.paused(name):
                message = "Too many wrong passwords for this name; wait a minute and try again."
            else:
                who = reviewers.check_login(db(), name, password)
                if who is not None:
                    sid, _ = logins.start(who)
                    response = redirect("/", code=303)
                    response.set_cookie(
                        session_cookie, sid, httponly=True, samesite="Strict", secure=secure_cookies, path="/"
                    )
                    return response
                logins.failed(name)
                message = "Wrong name or password."
        return render_template("login.html", message=message, static_tags=static_tags)

    @app.post("/logout")
    def logout() -> BaseResponse:
        if not login:
            abort(404)
        if shared_leases:
            queries.release_leases(db(), g.session.reviewer)
        logins.end(request.cookies.get(session_cookie))
        response = redirect("/login", code=303)
        response.delete_cookie(session_cookie, path="/")
        return response

    @app.after_request
    def harden(response: Response) -> Response:
        if g.get("set_token_cookie") and token_cookie not in response.headers.get("Set-Cookie", ""):
            _set_token_cookie(response)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if request.path.startswith("/api/"):
            return error(exc.code or 500, exc.description or "error")
        return _plain(exc.code or 500, exc.description or "error")

    @app.errorhandler(PetitionscanError)
    def database_gone(exc: PetitionscanError) -> Response:
        # e.g. the database file was moved away while the server runs
        if request.path.startswith("/api/"):
            return error(503, exc.message)
        return _plain(503, exc.message)

    @app.errorhandler(OverflowError)
    def number_too_large(_exc: OverflowError) -> Response:
        # a number in a JSON body beyond SQLite's 64-bit integers: no row has it
        return error(400, "a number in the request is out of range")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        # One line in the log (the traceback only with --verbose), a plain answer to the page.
        log.warning("%s %s failed: %s: %s", request.method, request.path, type(exc).__name__, exc)
        log.info("traceback", exc_info=exc)
        if request.path.startswith("/api/"):
            return error(500, "the server could not do this; nothing was saved")
        return _plain(500, "The server could not show this page.")

    @app.errorhandler(sqlite3.OperationalError)
    def database_busy(exc: sqlite3.OperationalError) -> Response:
        message = f"the database is busy or unwritable ({exc}); nothing was saved, try again"
        if request.path.startswith("/api/"):
            return error(503, message)
        return _plain(503, message)

    def page(template: str, **context: Any) -> str:
        return render_template(
            template,
            token=g.session.key if login else token,
            login=login,
            reviewer=current_reviewer(),
            progress=queries.progress(db(), current_reviewer()),
            static_tags=static_tags,
            **context,
        )

    # --- pages ------------------------------------------------------------------------

    @app.get("/")
    def queue_page() -> str:
        return page("queue.html", active="queue")

    @app.get("/sheets")
    def sheets_page() -> str:
        return page("sheets.html", active="sheets", sheets=queries.sheets(db()))

    @app.get("/sheets/<int:sheet_id>")
    def sheet_page(sheet_id: int) -> str:
        try:
            summary, rows = queries.sheet_rows(db(), sheet_id)
        except queries.RowNotFound:
            abort(404, "no such sheet")
        picture = queries.sheet_page(db(), sheet_id)
        layout = pages.page_layout(picture.layout_code) if picture.scan_id is not None else None
        by_no = {r.row_no: r for r in rows}
        return page(
            "sheet.html",
            active="sheets",
            sheet=summary,
            rows=rows,
            picture=picture,
            layout=layout,
            row_at=by_no,
            status_words=pages.STATUS_WORDS,
        )

    @app.get("/duplicates")
    def duplicates_page() -> str:
        return page("duplicates.html", active="duplicates", pairs=queries.duplicate_pairs(db()))

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status=204)

    @app.get("/static/<name>")
    def static_file(name: str) -> Response:
        data = static.get(name)  # looked up by name among fixed files; never a path
        if data is None:
            abort(404)
        return _cached(data, STATIC_TYPES[Path(name).suffix])

    @app.get("/crop/<int:row_id>.png")
    def crop(row_id: int) -> Response:
        try:
            png = queries.crop_png(db(), row_id)
        except queries.RowNotFound:
            abort(404, "no such row")
        if png is None:
            abort(404, "this row has no image")
        width = request.args.get("w", default=960, type=int) or 960
        try:
            data = images.scaled_png(png, width)
        except ValueError:
            abort(404, "the stored image of this row is damaged")
        return _cached(data, "image/png")  # crops never change

    @app.get("/page/<int:sheet_id>.jpg")
    def page_picture(sheet_id: int) -> Response:
        """The registered page as the scan stored it: no re-encoding, so nothing is lost."""
        try:
            data = queries.page_jpeg(db(), sheet_id)
        except queries.RowNotFound:
            abort(404, "no such sheet")
        if data is None:
            abort(404, "this sheet was scanned before page pictures were kept")
        try:
            kind = pages.image_type(data)
        except ValueError:
            abort(404, "the stored page picture of this sheet is damaged")
        return _cached(data, kind)  # a read scan never changes

    # --- API ----------------------------------------------------------------------------

    def progress_json() -> dict[str, Any]:
        return asdict(queries.progress(db(), current_reviewer()))

    @app.get("/api/queue")
    def api_queue() -> Response:
        limit = max(1, min(50, request.args.get("limit", default=10, type=int) or 10))
        client = request.args.get("client", "")[:64]
        exclude = {int(x) for x in request.args.get("exclude", "").split(",")[:500] if x.isdigit() and len(x) < 19}
        if shared_leases:
            holder = f"{current_reviewer() or ''}|{client}"
            rows = queries.claim(db(), holder, limit, frozenset(exclude), seconds=LEASE_SECONDS)
        else:
            rows = queries.queue(db(), limit, frozenset(exclude) | leases.others(client))
            leases.take(client, [r.id for r in rows])
        return jsonify(rows=[_row_json(r) for r in rows], progress=progress_json())

    @app.get("/api/progress")
    def api_progress() -> Response:
        return jsonify(progress=progress_json(), reviewer=current_reviewer())

    @app.get("/api/rows/<int:row_id>")
    def api_row(row_id: int) -> Response:
        try:
            row = queries.get_row(db(), row_id)
        except queries.RowNotFound:
            abort(404, "no such row")
        return jsonify(row=_row_json(row), history=[asdict(e) for e in queries.history(db(), row_id)])

    @app.post("/api/rows/<int:row_id>/decision")
    def api_decide(row_id: int) -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return error(400, "send the decision as JSON")
        reviewer = current_reviewer()
        if not reviewer:
            return error(400, "type your name first: every decision is signed with it")
        version, decision = body.get("version"), body.get("decision")
        values = body.get("values") or {}
        if not isinstance(version, int) or not isinstance(decision, str) or not isinstance(values, dict):
            return error(400, "a decision needs version, decision and values")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in values.items()):
            return error(400, "names must be text")
        try:
            row = queries.decide(db(), row_id, version=version, decision=decision, reviewer=reviewer, values=values)
        except queries.RowNotFound:
            return error(404, "no such row")
        except queries.Conflict as exc:
            leases.release(row_id)
            return error(
                409,
                "someone else decided this row meanwhile",
                current=_row_json(exc.current) if exc.current else None,
                last=asdict(exc.last) if exc.last else None,
                progress=progress_json(),
            )
        except PetitionscanError as exc:
            return error(400, exc.message)
        leases.release(row_id)
        return jsonify(row=_row_json(row), progress=progress_json())

    @app.post("/api/reviewer")
    def api_reviewer() -> Response:
        if login:
            return error(403, f"you are logged in as {current_reviewer()}; log out to review as someone else")
        body = request.get_json(silent=True)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str):
            return error(400, "send your name as JSON")
        try:
            cleaned = queries.clean_reviewer(name)
        except PetitionscanError as exc:
            return error(400, exc.message)
        response = jsonify(reviewer=cleaned)
        response.set_cookie(reviewer_cookie, cleaned, httponly=True, samesite="Strict", path="/")
        return response

    @app.post("/api/duplicates/decision")
    def api_pair() -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return error(400, "send the decision as JSON")
        reviewer = current_reviewer()
        if not reviewer:
            return error(400, "type your name first: every decision is signed with it")
        a, b, decision, seen = body.get("row_a"), body.get("row_b"), body.get("decision"), body.get("seen", "")
        if not (isinstance(a, int) and isinstance(b, int) and isinstance(decision, str) and isinstance(seen, str)):
            return error(400, "a duplicate decision needs row_a, row_b, decision and seen")
        try:
            done = queries.decide_pair(db(), a, b, decision=decision, reviewer=reviewer, seen=seen)
        except queries.RowNotFound:
            return error(404, "no such row")
        except queries.Conflict as exc:
            pair = exc.pair
            return error(
                409,
                "someone else decided this pair meanwhile",
                current=dict(asdict(pair), stamp=pair.stamp) if pair else None,
            )
        except PetitionscanError as exc:
            return error(400, exc.message)
        return jsonify(decision=dict(asdict(done), stamp=done.stamp), progress=progress_json())

    return app


class _RowNumber(IntegerConverter):
    """Whole numbers in addresses, no larger than SQLite stores: a longer one is 404, never 500."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _cached(data: bytes, content_type: str) -> Response:
    """Bytes the browser may keep for a day: static files and images that never change."""
    response = Response(data, content_type=content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


def _row_json(row: queries.RowView) -> dict[str, Any]:
    """A row for the page; jsonify escapes nothing, so the page only ever uses textContent."""
    data = asdict(row)
    data["split"] = row.split
    for field, view in zip(data["fields"], row.fields, strict=True):
        for letter, seen in zip(field["letters"], view.letters, strict=True):
            letter["uncertain"] = seen.uncertain
            letter["overruled"] = seen.overruled
    return data


def _hostname(host: str) -> str:
    """The host part of a Host header, without the port."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0]


def _safe_local(target: str) -> bool:
    """Only redirect to a path on this server (never ``//other.host``)."""
    return target.startswith("/") and not target.startswith("//") and "\\" not in target


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, content_type="text/plain; charset=utf-8")
