from __future__ import annotations

import errno
import json
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

from petitionscan import geometry
from petitionscan.cli import main
from petitionscan.forms import generate, load_campaign
from petitionscan.forms.pdf import parse_qr_payload
from petitionscan.forms.serials import is_valid_serial, ledger_path

REPO = Path(__file__).resolve().parents[2]
DPI = 150


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
    text = (REPO / "forms" / "mangystau-ru.toml").read_text(encoding="utf-8")
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
    campaign = load_campaign(REPO / "forms" / f"{name}.toml")
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
    generate(REPO / "forms" / "mangystau-kk.toml", sheets=1, out=pdf, layout_out=layout_json, with_appeal=False)
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


def test_unwritable_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["generate", "--out", str(tmp_path / "missing" / "s.pdf")])
    assert result.exit_code == 5 and "does not exist" in result.output


def test_full_disk_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import petitionscan.forms as forms

    def full(*args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(forms, "write_pdf", full)
    result = CliRunner().invoke(
        main, ["generate", "--out", str(tmp_path / "s.pdf"), "--layout", str(tmp_path / "s.json")]
    )
    assert result.exit_code == 5 and "No space left" in result.output
    assert list(tmp_path.iterdir()) == []
    assert not ledger_path("mangystau").exists()


def test_help_and_version() -> None:
    runner = CliRunner()
    assert "generate" in runner.invoke(main, ["--help"]).output
    assert "--no-appeal" in runner.invoke(main, ["generate", "--help"]).output
    assert runner.invoke(main, ["--version"]).output.startswith("petitionscan, version")
