"""The engine switch, the shipped weights, and failures the user can cause."""

from __future__ import annotations

import pickle
import shutil

import pytest

from petitionscan.errors import RecognizerError, UsageError
from petitionscan.recognize import DEFAULT_ENGINE, ENGINES, Reading, get_engine, name_confidence
from petitionscan.recognize.cnn import CnnRecognizer

from .conftest import hershey_field


def test_default_engine_is_cnn_and_reads_without_training_data() -> None:
    engine = get_engine()
    assert DEFAULT_ENGINE == "cnn" and engine.name == "cnn"
    assert set(ENGINES) == {"cnn", "tesseract"}
    reading = engine.read([hershey_field("JOHN DOE")])[0]
    assert reading.text == "JOHN DOE"
    assert reading.engine == "cnn"
    assert 0.0 < reading.confidence <= 1.0
    assert len(reading.letters) == 7
    for letter in reading.letters:
        probs = [p for _, p in letter.alternatives]
        assert len(letter.alternatives) == 3
        assert probs == sorted(probs, reverse=True)


def test_engine_survives_pickling_for_worker_processes() -> None:
    engine = get_engine("cnn")
    field = hershey_field("MARIA")
    before = engine.read([field])[0]
    clone = pickle.loads(pickle.dumps(engine))
    assert clone.read([field])[0] == before


def test_all_boxes_of_a_page_go_through_the_network_once(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = CnnRecognizer()
    calls: list[int] = []
    original = engine.probabilities

    def counting(glyphs, script="latin"):  # type: ignore[no-untyped-def]
        calls.append(len(glyphs))
        return original(glyphs, script)

    monkeypatch.setattr(engine, "probabilities", counting)
    engine.read([hershey_field("ANNA"), hershey_field("PETROV"), hershey_field("")])
    assert calls == [10]


def test_unknown_engine_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown recognizer engine"):
        get_engine("ocr9000")


def test_missing_tesseract_binary_is_a_recognizer_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RecognizerError, match="tesseract program was not found") as err:
        get_engine("tesseract")
    for hint in ("winget", "brew install tesseract", "apt-get install tesseract-ocr"):  # every system
        assert hint in err.value.message


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_tesseract_engine_reads_a_clean_field() -> None:
    engine = get_engine("tesseract")
    assert engine.name == "tesseract"
    reading = engine.read([hershey_field("JOHN DOE")])[0]
    assert reading.engine == "tesseract"
    assert reading.text.replace(" ", "") in {"JOHNDOE"} or reading.confidence < 0.9


def test_missing_weights_are_a_recognizer_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RecognizerError, match="letter model"):
        CnnRecognizer(weights=tmp_path / "none.onnx", meta_path=tmp_path / "none.json")


def test_corrupt_weights_are_a_recognizer_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from petitionscan.recognize.cnn import META

    bad = tmp_path / "letters.onnx"
    bad.write_bytes(b"not a network")
    engine = CnnRecognizer(weights=bad, meta_path=META)
    with pytest.raises(RecognizerError, match="cannot be loaded"):
        engine.read([hershey_field("ANNA")])


def test_name_confidence_multiplies_fields() -> None:
    a = Reading("ANNA", (), 0.9, "cnn")
    b = Reading("PETROVA", (), 0.8, "cnn")
    assert name_confidence([a, b]) == pytest.approx(0.72)
    assert name_confidence([]) == 1.0
