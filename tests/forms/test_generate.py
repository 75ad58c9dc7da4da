from __future__ import annotations

import errno
import json
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

from petitionscan import geometry
from petitionscan.cli import main
from petitionscan.forms import generate, load_campaign
from petitionscan.forms.campaign import shipped_campaign_text, shipped_campaigns
from petitionscan.forms.pdf import parse_qr_payload
from petitionscan.forms.serials import is_valid_serial, ledger_path

DPI = 150
CAMPAIGNS = Path(__file__).resolve().parents[2] / "petitionscan" / "forms" / "campaigns"


def _render(pdf: Path, index: int, dpi: int = DPI) -> np.ndarray:
    doc = pdfium.PdfDocument(str(pdf))
    try:
        return np.array(doc[index].render(scale=dpi / 72).to_pil().convert("RGB"))[:, :, ::-1].copy()
    finally:
        doc.close()


def _text(pdf: Path) -> str:
    doc = pdfium.PdfDocument(str(pdf))
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("gen")
    result = generate(None, sheets=2, out=out / "s.pdf", layout_out=out / "s.json", branch="Aktau")
    layout = json.loads((out / "s.json").read_text(encoding="utf-8"))
    assert result.pages == len(layout["pages"]) == result.appeal_pages + 2
    return out / "s.pdf", layout


def test_markers_and_qr_are_machine_readable(printed: tuple[Path, dict[str, object]]) -> None:
    pdf, layout = printed
    pages = layout["pages"]
    assert isinstance(pages, list)
    detector = cv2.aruco.ArucoDetector(
        cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_1000), cv2.aruco.DetectorParameters()
    )
    signature_pages = [(i, p) for i, p in enumerate(pages) if p["sheet_id"]]
    assert len(signature_pages) == 2
    for index, page in signature_pages:
        grey = cv2.cvtColor(_render(pdf, index), cv2.COLOR_BGR2GRAY)
        _, ids, _ = detector.detectMarkers(grey)
        assert ids is not None
        assert sorted(ids.ravel().tolist()) == sorted(m["id"] for m in page["markers"])
        import zxingcpp

        texts = {r.text for r in zxingcpp.read_barcodes(grey)}
        texts.add(cv2.QRCodeDetector().detectAndDecode(grey)[0])
        assert len(texts - {""}) == 1
        decoded = parse_qr_payload((texts - {""}).pop())
        assert decoded is not None
        campaign_id, serial, code, branch = decoded
        assert (campaign_id, serial, code, branch) == ("mangystau", page["sheet_id"], page["layout_code"], "Aktau")
        assert is_valid_serial(serial)
    assert all(p["rows"] == [] and p["sheet_id"] is None for p in pages[: -len(signature_pages)])


def test_layout_boxes_lie_where_the_page_has_them(printed: tuple[Path, dict[str, object]]) -> None:
    pdf, layout = printed
    pages = layout["pages"]
    assert isinstance(pages, list)
    index = len(pages) - 1
    image = _render(pdf, index).astype(int)
    scale = DPI / 72
    boxes = [b for row in pages[index]["rows"] for b in row["fields"]["name"]["boxes"]]
    assert len(boxes) == 9 * 24
    for x0, y0, x1, y1 in boxes:
        ym = int((y0 + y1) / 2 * scale)
        xm = int((x0 + x1) / 2 * scale)
        # The left and right edges carry the drop-out colour: red high, blue low.
        for x in (int(x0 * scale), int(x1 * scale)):
            b, _g, r = image[ym, x - 1 : x + 2].min(axis=0)
            assert r > 200 and b < 200, (x0, y0)
        # The inside is white paper.
        assert image[ym, xm].min() > 240


def test_appeal_demands_are_in_the_pdf_text(printed: tuple[Path, dict[str, object]]) -> None:
    pdf, _ = printed
    text = " ".join(_text(pdf).split())
    campaign = load_campaign()
    assert len(campaign.appeal.demands) == 7
    for demand in campaign.appeal.demands:
        assert demand[:40] in text
    assert "of Kazakhstan" in text and "ofKazakhstan" not in text
    assert "We, the undersigned" in text


def test_cyrillic_and_kazakh_letters_print(tmp_path: Path) -> None:
    kk = tmp_path / "kk.toml"
    text = shipped_campaigns()["mangystau-ru"]
    text = text.replace('language = "ru"', 'language = "kk"').replace(
        'statement = "Мы,', 'statement = "ӘҒҚҢӨҰҮҺІ әғқңөұүһі. Мы,'
    )
    kk.write_text(text, encoding="utf-8")
    generate(kk, sheets=1, out=tmp_path / "kk.pdf", branch="Жаңаөзен")
    printed = _text(tmp_path / "kk.pdf")
    for word in ("ӘҒҚҢӨҰҮҺІ", "әғқңөұүһі", "Жаңаөзен", "Тегі", "Қолы", "Свободу Наталье Соколовой"):
        assert word in printed


@pytest.mark.parametrize(
    ("name", "language", "alphabet"),
    [("mangystau", "en", "latin"), ("mangystau-ru", "ru", "cyrillic"), ("mangystau-kk", "kk", "cyrillic")],
)
def test_shipped_campaigns_name_their_alphabet(name: str, language: str, alphabet: str) -> None:
    campaign = load_campaign(CAMPAIGNS / f"{name}.toml")
    assert (campaign.language, campaign.alphabet, campaign.layout.alphabet) == (language, alphabet, alphabet)


def test_alphabet_defaults_to_latin(tmp_path: Path) -> None:
    campaign = tmp_path / "c.toml"
    campaign.write_text(
        '[campaign]\nid = "x"\ntitle = "T"\n[petition]\ntitle = "P"\nstatement = "S"\n', encoding="utf-8"
    )
    loaded = load_campaign(campaign)
    assert loaded.alphabet == "latin"
    assert loaded.layout.code.count("/") == 4  # no alphabet part: the code of sheets printed before


def test_kazakh_sheet_carries_cyrillic_in_its_qr_and_says_so(tmp_path: Path) -> None:
    pdf, layout_json = tmp_path / "kk.pdf", tmp_path / "kk.json"
    generate(CAMPAIGNS / "mangystau-kk.toml", sheets=1, out=pdf, layout_out=layout_json, with_appeal=False)
    page = json.loads(layout_json.read_text(encoding="utf-8"))["pages"][0]
    assert page["alphabet"] == "cyrillic" and page["layout_code"].endswith("/c")
    grey = cv2.cvtColor(_render(pdf, 0), cv2.COLOR_BGR2GRAY)
    import zxingcpp

    decoded = parse_qr_payload(zxingcpp.read_barcodes(grey)[0].text)
    assert decoded is not None
    assert geometry.parse_layout_code(decoded[2]).alphabet == "cyrillic"
    printed = " ".join(_text(pdf).split())
    assert "Кирилл әріптерімен жазыңыз" in printed and "Тегі" in printed


def test_serials_never_repeat_across_runs_and_branches(tmp_path: Path) -> None:
    a = generate(None, sheets=20, out=tmp_path / "a.pdf", branch="one", with_appeal=False)
    b = generate(None, sheets=20, out=tmp_path / "b.pdf", branch="two", with_appeal=False)
    assert len(set(a.serials)) == 20 and not set(a.serials) & set(b.serials)
    ledger = ledger_path("mangystau").read_text().split()
    assert set(a.serials) | set(b.serials) <= set(ledger)


def test_seeded_serials_are_the_same_on_every_run(tmp_path: Path) -> None:
    """Simulated corpora (validation sheets, benchmarks) come out pixel for pixel alike: their serials
    too, whatever the ledger holds; another seed gives others, and they are valid serials all the same."""
    from petitionscan.sheetcode import confusable_twins

    a = generate(None, sheets=12, out=tmp_path / "a.pdf", with_appeal=False, serial_seed=7)
    b = generate(None, sheets=12, out=tmp_path / "b.pdf", with_appeal=False, serial_seed=7)  # a's now in the ledger
    c = generate(None, sheets=12, out=tmp_path / "c.pdf", with_appeal=False, serial_seed=8)
    assert a.serials == b.serials and len(set(a.serials)) == 12
    assert not set(a.serials) & set(c.serials)
    assert all(is_valid_serial(s) and not confusable_twins(s) for s in a.serials + c.serials)


def test_letter_paper_and_single_name(tmp_path: Path) -> None:
    campaign = tmp_path / "c.toml"
    campaign.write_text(
        '[campaign]\nid = "x"\ntitle = "T"\npaper = "LETTER"\n'
        '[petition]\ntitle = "P"\nstatement = "S"\n[columns]\nname = "single"\nsignature = false\n',
        encoding="utf-8",
    )
    generate(campaign, sheets=1, out=tmp_path / "c.pdf", layout_out=tmp_path / "c.json", with_appeal=False)
    page = json.loads((tmp_path / "c.json").read_text())["pages"][0]
    assert page["page_size"] == [612.0, 792.0]
    assert set(page["rows"][0]["fields"]) == {"name"}
    assert len(page["rows"]) == geometry.max_rows("LETTER", False)


BAD_CAMPAIGNS = {
    "syntax": ("[campaign\nid = 1", "not valid TOML"),
    "unknown key": (
        '[campaign]\nid = "x"\ntitle = "T"\ncolour = "red"\n[petition]\ntitle = "P"\nstatement = "S"\n',
        "'campaign.colour'",
    ),
    "wrong type": (
        '[campaign]\nid = "x"\ntitle = "T"\nrows = "ten"\n[petition]\ntitle = "P"\nstatement = "S"\n',
        "'campaign.rows': must be a whole number",
    ),
    "missing statement": ('[campaign]\nid = "x"\ntitle = "T"\n[petition]\ntitle = "P"\n', "'petition.statement'"),
    "language": (
        '[campaign]\nid = "x"\ntitle = "T"\nlanguage = "xx"\n[petition]\ntitle = "P"\nstatement = "S"\n',
        "'campaign.language'",
    ),
    "alphabet": (
        '[campaign]\nid = "x"\ntitle = "T"\nalphabet = "greek"\n[petition]\ntitle = "P"\nstatement = "S"\n',
        "'campaign.alphabet': must be one of latin, cyrillic, latin+cyrillic",
    ),
    "too many rows": (
        '[campaign]\nid = "x"\ntitle = "T"\nrows = 50\n[petition]\ntitle = "P"\nstatement = "S"\n',
        "'campaign.rows'",
    ),
    "zero rows": (
        '[campaign]\nid = "x"\ntitle = "T"\nrows = 0\n[petition]\ntitle = "P"\nstatement = "S"\n',
        "'campaign.rows': must be 1 to",
    ),
    "NUL": ('[campaign]\nid = "x"\ntitle = "T\\u0000"\n[petition]\ntitle = "P"\nstatement = "S"\n', "U+0000"),
    "BEL": ('[campaign]\nid = "x"\ntitle = "T"\n[petition]\ntitle = "P"\nstatement = "S\\u0007"\n', "U+0007"),
    "right-to-left override": (
        '[campaign]\nid = "x"\ntitle = "T"\n[appeal]\nbefore = ["a\u202eb"]\n[petition]\ntitle = "P"\nstatement = "S"\n',
        "'appeal.before': contains the invisible control character U+202E",
    ),
    "line break in a key": (
        '[campaign]\nid = "x"\ntitle = "T"\n[appeal]\n"bad\\nkey" = "v"\n[petition]\ntitle = "P"\nstatement = "S"\n',
        "key 'appeal.bad\\nkey': is not a known key",
    ),
    "nested 5000 deep": ("x = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    "10 MB statement": (
        '[campaign]\nid = "x"\ntitle = "T"\n[petition]\ntitle = "P"\nstatement = "' + "S " * 5_000_000 + '"\n',
        "too large to be a campaign file",
    ),
    "long statement": (
        '[campaign]\nid = "x"\ntitle = "T"\n[petition]\ntitle = "P"\nstatement = "' + "word " * 200 + '"\n',
        "'petition.statement': is 999 characters long; the limit is 700",
    ),
    "long branch": (
        '[campaign]\nid = "x"\ntitle = "T"\nbranch = "' + "Ж" * 41 + '"\n[petition]\ntitle = "P"\nstatement = "S"\n',
        "'campaign.branch': is 41 characters long; the limit is 40",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CAMPAIGNS))
def test_bad_campaign_files_fail_clearly_and_write_nothing(tmp_path: Path, case: str) -> None:
    body, message = BAD_CAMPAIGNS[case]
    campaign = tmp_path / "bad.toml"
    campaign.write_text(body, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(main, ["generate", str(campaign), "--out", str(out / "s.pdf")])
    assert result.exit_code == 3, result.output
    assert message in result.output and str(campaign) in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert list(out.iterdir()) == []


def test_missing_campaign_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["generate", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "s.pdf")])
    assert result.exit_code == 3 and "no such campaign file" in result.output


@pytest.mark.parametrize("count", ["0", "-3", "100000"])
def test_absurd_sheet_counts(tmp_path: Path, count: str) -> None:
    result = CliRunner().invoke(main, ["generate", "--sheets", count, "--out", str(tmp_path / "s.pdf")])
    assert result.exit_code == 2 and "--sheets" in result.output
    assert not (tmp_path / "s.pdf").exists()


@pytest.mark.parametrize("branch", ["A" * 500, "Ж" * 360, "Ж" * 41, "Depot\x07", "Depot\u202e7"])
def test_long_or_odd_branch_is_refused_before_anything_is_written(tmp_path: Path, branch: str) -> None:
    result = CliRunner().invoke(main, ["generate", "--branch", branch, "--out", str(tmp_path / "s.pdf")])
    assert result.exit_code == 2, result.output
    assert "--branch" in result.output and len(result.output.strip().splitlines()) == 1
    assert ("limit is 40" in result.output) == (len(branch) > 40)
    assert list(tmp_path.iterdir()) == []


def test_longest_branch_and_texts_print_and_read_back(tmp_path: Path) -> None:
    """At the limits the sheet is still written, and the QR code still carries the whole branch."""
    from petitionscan.forms import campaign as limits

    text = shipped_campaign_text("mangystau-ru")
    statement = ("Жанаозен " * 100)[: limits.MAX_STATEMENT].strip()
    title = ("Требуем " * 30)[: limits.MAX_PETITION_TITLE].strip()
    body = text.split("[petition]")[0] + f'[petition]\ntitle = "{title}"\nstatement = "{statement}"\n'
    body += "[columns]" + text.split("[columns]")[1] if "[columns]" in text else ""
    campaign = tmp_path / "long.toml"
    campaign.write_text(body, encoding="utf-8")
    branch = "Ж" * limits.MAX_BRANCH
    result = generate(campaign, sheets=1, out=tmp_path / "s.pdf", branch=branch, with_appeal=False)
    grey = cv2.cvtColor(_render(result.pdf, 0), cv2.COLOR_BGR2GRAY)
    import zxingcpp

    decoded = [parse_qr_payload(r.text) for r in zxingcpp.read_barcodes(grey)]
    assert [d[3] for d in decoded if d] == [branch]
    assert statement[-20:] in _text(result.pdf).replace("\r", "").replace("\n", " ")


def test_unwritable_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["generate", "--out", str(tmp_path / "missing" / "s.pdf")])
    assert result.exit_code == 5 and "does not exist" in result.output


def test_full_disk_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import petitionscan.forms.pdf as pdf

    def full(*args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pdf, "write_pdf", full)
    result = CliRunner().invoke(
        main, ["generate", "--out", str(tmp_path / "s.pdf"), "--layout", str(tmp_path / "s.json")]
    )
    assert result.exit_code == 5 and "No space left" in result.output
    assert list(tmp_path.iterdir()) == []
    assert not ledger_path("mangystau").exists()


def test_an_interrupt_a_library_turns_into_its_own_error_still_ends_as_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ReportLab, stopped by SIGTERM while drawing a QR code, may raise an AttributeError of its own."""
    import signal

    import petitionscan.forms.pdf as pdf

    def swallows_the_interrupt(*args: object, **kwargs: object) -> int:
        try:
            signal.raise_signal(signal.SIGTERM)
        except KeyboardInterrupt:
            raise AttributeError("'SRect' object has no attribute '_parent'") from None
        return 0

    monkeypatch.setattr(pdf, "write_pdf", swallows_the_interrupt)
    result = CliRunner().invoke(main, ["generate", "--out", str(tmp_path / "s.pdf")])
    assert result.exit_code == 130 and "interrupted" in result.output
    assert "unexpected" not in result.output
    assert list(tmp_path.iterdir()) == []
    assert not ledger_path("mangystau").exists()


def test_an_interrupt_a_library_swallows_stops_the_run_at_its_next_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library may catch the interrupt and carry on drawing: the next sheet's progress
    report stops the run, exit 130, nothing written."""
    import signal

    import petitionscan.forms.pdf as pdf

    drawn = []

    def swallows_the_interrupt(*args: object, **kwargs: object) -> int:
        progress = args[-1]
        assert callable(progress)
        for sheet in range(1, 1001):
            try:
                if sheet == 3:
                    signal.raise_signal(signal.SIGTERM)
            except KeyboardInterrupt:
                pass  # swallowed: the library goes on
            drawn.append(sheet)
            progress(sheet, 1000)
        return 0

    monkeypatch.setattr(pdf, "write_pdf", swallows_the_interrupt)
    result = CliRunner().invoke(main, ["generate", "--sheets", "1000", "--out", str(tmp_path / "s.pdf")])
    assert result.exit_code == 130 and "interrupted" in result.output
    assert drawn == [1, 2, 3]
    assert list(tmp_path.iterdir()) == []
    assert not ledger_path("mangystau").exists()


def test_help_and_version() -> None:
    runner = CliRunner()
    assert "generate" in runner.invoke(main, ["--help"]).output
    assert "--no-appeal" in runner.invoke(main, ["generate", "--help"]).output
    assert runner.invoke(main, ["--version"]).output.startswith("petitionscan, version")


def _generate_in_background(out: Path, home: Path) -> subprocess.Popen[bytes]:
    import os
    import sys

    cmd = [sys.executable, "-c", "from petitionscan.cli import main; main()", "generate", "--sheets", "1500"]
    env = {**os.environ, "PETITIONSCAN_HOME": str(home)}
    return subprocess.Popen([*cmd, "--out", str(out)], stderr=subprocess.PIPE, env=env)


def _temps(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def _wait_for_temp(folder: Path) -> None:
    import time

    deadline = time.monotonic() + 60
    while not _temps(folder) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _temps(folder)


def test_sigterm_during_generate_leaves_nothing(tmp_path: Path) -> None:
    import signal

    out = tmp_path / "out"
    out.mkdir()
    proc = _generate_in_background(out / "s.pdf", tmp_path / "home")
    try:
        _wait_for_temp(out)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 130
    finally:
        proc.kill()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert list(out.iterdir()) == []


def test_the_next_run_removes_what_a_killed_run_left(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc = _generate_in_background(out / "s.pdf", tmp_path / "home")
    try:
        _wait_for_temp(out)
        proc.kill()  # SIGKILL: no chance to clean up
        proc.wait(timeout=60)
    finally:
        proc.kill()
    assert _temps(out)
    result = CliRunner().invoke(main, ["generate", "--out", str(out / "s.pdf"), "--no-appeal"])
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["s.pdf"]


def test_the_qr_code_carries_the_branch_as_text_and_old_sheets_still_read() -> None:
    from urllib.parse import quote

    from petitionscan.forms.pdf import qr_payload

    branch = "Жанаозен; 100% буровиков"
    payload = qr_payload("mangystau", "S", "L1", branch)
    assert parse_qr_payload(payload) == ("mangystau", "S", "L1", branch)
    assert "Жанаозен" in payload  # two bytes a letter in the code, not six
    assert len(qr_payload("m", "S", "L1", "Ж" * 40).encode()) < len(qr_payload("m", "S", "L1", "A" * 80).encode()) + 5
    printed_before = ";".join(("PSC1", "mangystau", "S", "L1", quote(branch, safe="")))
    assert parse_qr_payload(printed_before) == ("mangystau", "S", "L1", branch)
    assert parse_qr_payload(qr_payload("m", "S", "L1", "a\x07\u202eb")) == ("m", "S", "L1", "a\x07\u202eb")


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("win32", {"LOCALAPPDATA": "C:/Users/a/AppData/Local"}, "C:/Users/a/AppData/Local/petitionscan"),
        ("darwin", {}, "HOME/Library/Application Support/petitionscan"),
        ("linux", {"XDG_DATA_HOME": "/x/data"}, "/x/data/petitionscan"),
        ("linux", {}, "HOME/.local/share/petitionscan"),
    ],
)
def test_the_ledger_lives_in_the_platform_user_data_folder(
    platform: str, env: dict[str, str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from petitionscan import fileio
    from petitionscan.forms import serials

    monkeypatch.delenv("PETITIONSCAN_HOME")
    for name in ("LOCALAPPDATA", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(fileio.sys, "platform", platform)  # the user-data folder is found in fileio
    assert serials.ledger_path("c") == Path(expected.replace("HOME", str(tmp_path))) / "serials" / "c.txt"
    monkeypatch.setenv("PETITIONSCAN_HOME", str(tmp_path / "own"))
    assert serials.ledger_path("c") == tmp_path / "own" / "serials" / "c.txt"


def test_generate_reports_progress_per_sheet(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    generate(None, sheets=3, out=tmp_path / "s.pdf", with_appeal=False, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_new_serials_have_no_twin_a_double_misreading_away(tmp_path: Path) -> None:
    """A printed serial misread twice the same way (5 as S, 0 as D) must fail its check, never name another sheet."""
    from petitionscan.forms.serials import new_serials
    from petitionscan.sheetcode import confusable_twins

    # Seen on a damaged-QR page at 150 dpi: both valid, two confusions apart.
    assert "SSMES-RY1KD-8" in confusable_twins("S5MES-RY1K0-8")
    assert "S5MES-RY1K0-8" in confusable_twins("SSMES-RY1KD-8")
    assert not any(confusable_twins(s) for s in new_serials(300, "twins"))
