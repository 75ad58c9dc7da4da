"""The engine switch, the shipped weights, and failures the user can cause."""

from __future__ import annotations

import json
import math
import pickle
import shutil

import numpy as np
import pytest

from petitionscan.errors import RecognizerError, UsageError
from petitionscan.recognize import DEFAULT_ENGINE, ENGINES, Reading, cnn, get_engine, name_confidence
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


def test_the_network_reads_a_page_in_small_runs_with_the_same_probabilities(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page's glyphs go to the network GLYPHS_PER_RUN at a time (the activations stay in
    the cache); every glyph gets what it gets in one run of all of them."""
    engine = CnnRecognizer()
    glyphs = [np.asarray(g, np.float32) for g in np.random.default_rng(5).random((37, 32, 32))]
    model = engine.script_model("latin")
    net = model._network()
    sizes: list[int] = []

    class Counting:
        def get_inputs(self):  # type: ignore[no-untyped-def]
            return net.get_inputs()

        def run(self, names, feed):  # type: ignore[no-untyped-def]
            sizes.append(len(next(iter(feed.values()))))
            return net.run(names, feed)

    monkeypatch.setattr(model, "_net", Counting())
    monkeypatch.setattr(cnn, "GLYPHS_PER_RUN", 16)
    in_runs = model.probabilities(glyphs)
    assert sizes == [16, 16, 5]
    monkeypatch.setattr(cnn, "GLYPHS_PER_RUN", 1000)
    at_once = model.probabilities(glyphs)
    assert sizes[-1] == 37
    assert np.array_equal(in_runs, at_once)


def test_the_training_class_shares_are_divided_out(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A class the network saw more often in training is not favoured for it: the probabilities
    are the network's divided by the classes' training shares (to the power of the strength)."""
    meta = json.loads(cnn.META.read_text(encoding="utf-8"))
    shares = {c: (4.0 if c in "OS" else 1.0) for c in meta["classes"]}
    total = sum(shares.values())
    glyphs = [np.asarray(g, np.float32) for g in np.random.default_rng(3).random((9, 32, 32))]

    def model(**changes: object) -> cnn.ScriptModel:
        path = tmp_path / f"meta{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps({**meta, **changes}), encoding="utf-8")
        return cnn.ScriptModel("latin", cnn.WEIGHTS, path)

    plain = model(class_prior={}, prior_correction=0.0).probabilities(glyphs)
    for strength in (1.0, 0.5):
        divided = model(class_prior={c: v / total for c, v in shares.items()}, prior_correction=strength)
        weights = np.array([shares[c] for c in meta["classes"]]) ** -strength
        expected = plain * weights / (plain * weights).sum(axis=1, keepdims=True)
        assert np.allclose(divided.probabilities(glyphs), expected, atol=1e-9)
    # Without shares in the metadata (networks before them), or at strength 0: the network's own.
    bare = {k: v for k, v in meta.items() if k not in ("class_prior", "prior_correction")}
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(bare), encoding="utf-8")
    assert cnn.ScriptModel("latin", cnn.WEIGHTS, path).prior_bias == ()
    assert cnn.class_prior_bias("AB", {"A": 0.0, "B": 0.0}, 1.0) == ()  # no usable shares: nothing divided
    assert (
        cnn.class_prior_bias("ABC", {"A": 0.5, "B": 0.5}, 1.0)[2]
        == cnn.class_prior_bias("ABC", {"A": 0.5, "B": 0.5}, 1.0)[0]
    )
    assert np.array_equal(cnn.ScriptModel("latin", cnn.WEIGHTS, path).probabilities(glyphs), plain)


def test_the_shipped_networks_carry_their_training_shares() -> None:
    """Both networks' metadata carry their training class shares; the Cyrillic reader divides
    them out in full, the Latin one not (on pen-on-paper pages it read fewer names right so)."""
    for path, strength in ((cnn.META, 0.0), (cnn.CYRILLIC_META, 1.0)):
        meta = json.loads(path.read_text(encoding="utf-8"))
        assert set(meta["class_prior"]) == set(meta["classes"])
        assert sum(meta["class_prior"].values()) == pytest.approx(1.0, abs=1e-4)
        assert meta["prior_correction"] == strength
    assert CnnRecognizer().script_model("cyrillic").prior_bias
    assert not CnnRecognizer().script_model("latin").prior_bias


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


def test_a_listed_field_is_judged_on_the_features_its_metadata_names(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The listed names' model weighs names.FEATURES, or names.LISTED_FEATURES with the overrules'
    surprise table: the reader computes what the metadata's feature list says."""
    from petitionscan.recognize.names import (
        FEATURES,
        LISTED_FEATURES,
        decode,
        field_features,
        listed_features,
        load_model,
    )

    meta = json.loads(cnn.META.read_text(encoding="utf-8"))
    d = decode([[[(ch, 0.99)] for ch in "GORDEE"] + [[("U", 0.7), ("V", 0.29)]]], load_model("surname"))
    assert d.overrules == (("U", "V"),)

    def model(features: tuple[str, ...], surprise: dict[str, float]) -> cnn.ScriptModel:
        coef = [0.0] * len(features)
        coef[features.index("margin")] = 0.5
        if "overrule_surprise" in features:
            coef[features.index("overrule_surprise")] = -1.0
        listed = {"features": list(features), "coef": coef, "intercept": 1.0, "surprise": surprise}
        path = tmp_path / f"meta{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps({**meta, "field_confidence_listed": listed}), encoding="utf-8")
        return cnn.ScriptModel("latin", cnn.WEIGHTS, path)

    plain = model(FEATURES, {})
    assert not plain.listed_overrules
    margin = field_features(d, False)[FEATURES.index("margin")]
    assert plain.field_confidence(d, False) == pytest.approx(1 / (1 + math.exp(-(1.0 + 0.5 * margin))))
    weighed = model(LISTED_FEATURES, {"U>V": 2.0})
    assert weighed.listed_overrules and weighed.surprise == {"U>V": 2.0}
    assert listed_features(d, False, weighed.surprise)[-2] == 2.0
    assert weighed.field_confidence(d, False) == pytest.approx(1 / (1 + math.exp(-(1.0 + 0.5 * margin - 2.0))))
