"""A shared review server with a real certificate: HTTPS end to end, and clear errors for bad TLS files.

The certificate is made at test time by the ``openssl`` command (self-signed,
for 127.0.0.1); the client trusts exactly that certificate.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from review_data import Campaign, build_campaign

from petitionscan import reviewers, store
from petitionscan.cli import main
from petitionscan.review import ReviewServer

KEY = re.compile(r'<meta name="ps-token" content="([^"]+)">')


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def make_certificate(folder: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, and its unencrypted key (PEM)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("making a test certificate needs the openssl command (apt-get install openssl)")
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=petitionscan test",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return Certificate(cert, key)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls") / "server")


@pytest.fixture(scope="module")
def other_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls") / "other")


class Browser:
    """HTTPS requests to one server, trusting only its certificate, keeping the session cookie."""

    def __init__(self, port: int, certificate: Certificate) -> None:
        self.port = port
        self.context = ssl.create_default_context(cafile=str(certificate.cert))
        self.cookie = ""

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=10)
        try:
            sent = dict(headers or {})
            if self.cookie:
                sent["Cookie"] = self.cookie
            conn.request(method, path, body=body, headers=sent)
            answer = conn.getresponse()
            data = answer.read()
        finally:
            conn.close()
        cookie = answer.headers.get("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return answer.status, answer.headers, data


@pytest.fixture
def https_server(db_target: store.Target, certificate: Certificate) -> Iterator[tuple[ReviewServer, Campaign, str]]:
    campaign = build_campaign(db_target)
    password = reviewers.add_reviewer(db_target, "Ann")
    server = ReviewServer(db_target, port=0, login=True, tls_cert=certificate.cert, tls_key=certificate.key)
    server.start_in_thread()
    try:
        yield server, campaign, password
    finally:
        server.shutdown()


def test_a_shared_server_speaks_https_with_its_certificate(
    https_server: tuple[ReviewServer, Campaign, str], certificate: Certificate, db_target: store.Target
) -> None:
    server, campaign, password = https_server
    assert server.url == f"https://127.0.0.1:{server.port}/"
    browser = Browser(server.port, certificate)

    status, headers, _ = browser.request("GET", "/")
    assert status == 303 and headers["Location"] == "/login"
    status, _, form = browser.request("GET", "/login")
    assert status == 200 and b'<form method="post" action="/login"' in form
    form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, headers, _ = browser.request("POST", "/login", b"name=Ann&password=" + password.encode(), form_headers)
    assert status == 303 and headers["Location"] == "/"
    cookie = headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie, "the session cookie never travels over plain HTTP"

    status, _, page = browser.request("GET", "/")
    assert status == 200
    key = KEY.search(page.decode())
    assert key is not None
    status, _, body = browser.request("GET", "/api/queue?client=tab1")
    assert status == 200
    row = json.loads(body)["rows"][0]
    assert row["id"] == campaign.queue[0]
    status, headers, png = browser.request("GET", f"/crop/{row['id']}.png")
    assert status == 200 and headers["Content-Type"] == "image/png" and png.startswith(b"\x89PNG")
    decision = json.dumps({"version": row["version"], "decision": "unreadable", "values": {}}).encode()
    write = {"Content-Type": "application/json", "X-Petitionscan-Token": key.group(1)}
    status, _, body = browser.request("POST", f"/api/rows/{row['id']}/decision", decision, write)
    assert status == 200 and json.loads(body)["row"]["updated_by"] == "Ann"

    # Plain HTTP to the HTTPS port, even with a valid session cookie: no page, no data.
    plain = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        plain.request("GET", "/api/queue?client=tab1", headers={"Cookie": browser.cookie})
        answer = plain.getresponse()
        raise AssertionError(f"plain HTTP was answered: {answer.status} {answer.read()[:200]!r}")
    except (http.client.HTTPException, OSError):
        pass
    finally:
        plain.close()

    # A client that does not trust this certificate refuses the connection.
    stranger = http.client.HTTPSConnection("127.0.0.1", server.port, context=ssl.create_default_context(), timeout=10)
    with pytest.raises(ssl.SSLCertVerificationError):
        stranger.request("GET", "/login")
    stranger.close()

    status, _, body = browser.request("GET", "/api/progress")  # the server still serves after both
    assert status == 200 and json.loads(body)["reviewer"] == "Ann"
    with closing(store.connect(db_target)) as conn:
        assert [tuple(r) for r in conn.execute("SELECT row_id, reviewer FROM review_log")] == [(row["id"], "Ann")]


def test_a_silent_connection_does_not_hold_the_other_reviewers(
    https_server: tuple[ReviewServer, Campaign, str], certificate: Certificate
) -> None:
    """The TLS handshake happens in each connection's own thread, not in the loop that accepts them."""
    server, _, _ = https_server
    with socket.create_connection(("127.0.0.1", server.port), timeout=10):  # connects, then says nothing
        status, _, _ = Browser(server.port, certificate).request("GET", "/login")
        assert status == 200


def _review(db: Path, *options: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["review", "--db", str(db), "--no-browser", "--port", "0", *options])
    return result.exit_code, result.stdout, result.stderr


def test_tls_file_problems_are_one_line_errors(
    campaign: Campaign, certificate: Certificate, other_certificate: Certificate, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.pem"
    not_pem = tmp_path / "notes.txt"
    not_pem.write_text("not a certificate\n")
    cases = [
        (["--tls-cert", str(missing), "--tls-key", str(certificate.key)], f"--tls-cert {missing}: no such file"),
        (["--tls-cert", str(certificate.cert), "--tls-key", str(missing)], f"--tls-key {missing}: no such file"),
        (["--tls-key", str(certificate.key)], "--tls-key needs --tls-cert too"),
        (
            ["--tls-cert", str(certificate.cert), "--tls-key", str(other_certificate.key)],
            f"cannot use the certificate {certificate.cert} with the key {other_certificate.key} (",
        ),
        (["--tls-cert", str(not_pem), "--tls-key", str(certificate.key)], f"cannot use the certificate {not_pem}"),
        (["--tls-cert", str(certificate.cert)], f"cannot use the certificate {certificate.cert} ("),  # no key in it
    ]
    for options, expected in cases:
        code, out, err = _review(campaign.path, *options)
        assert code == 2, (options, out, err)
        assert out == "", "nothing was served"
        assert err.startswith("petitionscan: error: ") and err.count("\n") == 1, err
        assert expected in err, (expected, err)
