"""``petitionscan review`` on the command line: address printed, local only, clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from click.testing import CliRunner
from review_data import Campaign

from petitionscan.cli import main


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["review", "--db", str(tmp_path / "nope.db"), "--no-browser"])
    assert result.exit_code == 6
    assert "no such database" in result.output and not (tmp_path / "nope.db").exists()


def test_busy_port_is_a_usage_error(campaign: Campaign) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["review", "--db", str(campaign.path), "--no-browser", "--port", str(port)])
    assert result.exit_code == 2
    assert f"127.0.0.1:{port}" in result.output and "--port" in result.output


def test_serves_locally_until_interrupted(campaign: Campaign) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from petitionscan.cli import main; main()",
            "review",
            "--db",
            str(campaign.path),
            "--no-browser",
            "--port",
            "0",
            "--reviewer",
            "Iga",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # A suite started in the background (``&``) ignores Ctrl+C, and children
        # inherit that; the server under test gets the terminal's usual Ctrl+C.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("review page: http://127.0.0.1:"), line
        url = line.split(": ", 1)[1].strip()
        base, _, token = url.partition("/?token=")
        assert len(token) >= 40
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with browser.open(url, timeout=10) as page:  # redirected to "/" with the key in a cookie
            assert page.status == 200 and page.url == base + "/"
            assert "Iga" in page.read().decode()
        with browser.open(base + "/api/queue", timeout=10) as api:
            assert api.status == 200
        try:
            urllib.request.urlopen(base + "/api/queue", timeout=10)
            raise AssertionError("served without the key")
        except urllib.error.HTTPError as exc:
            assert exc.code == 403
            exc.close()
        port = int(base.rsplit(":", 1)[1])
        with socket.socket() as s:  # nothing listens on the other addresses of this machine
            outside = socket.gethostbyname(socket.gethostname())
            if not outside.startswith("127."):
                assert s.connect_ex((outside, port)) != 0
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "stopped; every decision is saved" in out
