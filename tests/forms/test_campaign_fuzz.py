"""Fuzzing the campaign parser: any file, any structure, one CampaignError or a valid campaign."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from petitionscan.errors import CampaignError
from petitionscan.forms import campaign as cp
from petitionscan.markup import first_control

FUZZ = settings.get_profile(f"fuzz-{__import__('os').environ.get('PETITIONSCAN_FUZZ', 'default')}")
KEYS = {
    "campaign": ["id", "title", "language", "paper", "rows", "return_address", "branch", "target"],
    "appeal": ["title", "before", "demands", "after", "signed"],
    "petition": ["title", "statement"],
    "columns": ["name", "first_name_boxes", "surname_boxes", "name_boxes", "workplace", "town", "union", "signature",
                "workplace_boxes", "town_boxes", "union_boxes"],
}  # fmt: skip
BASE = tomllib.loads(cp.shipped_campaign_text("mangystau"))

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["x", "mangystau", "en", "ru", "kk", "A4", "LETTER", "split", "single", "", " "]),
    st.integers(0, 2000).map(lambda n: "Ж" * n),
    st.text(alphabet=st.characters(max_codepoint=0x206F), max_size=10),
)
scalars = st.one_of(texts, st.integers(-(2**70), 2**70), st.booleans(), st.floats(allow_nan=True))
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=3), max_leaves=8
)


@st.composite
def structures(draw: st.DrawFn) -> dict[str, Any]:
    """The shipped campaign with a few keys changed, removed or added: close to valid, so deep checks run."""
    data: dict[str, Any] = {k: dict(v) for k, v in BASE.items()}
    for _ in range(draw(st.integers(1, 4))):
        table = draw(st.sampled_from([*KEYS, "extra"]))
        key = draw(st.sampled_from([*KEYS.get(table, ["x"]), "unknown"]))
        action = draw(st.sampled_from(["set", "set", "delete", "replace table"]))
        if action == "replace table":
            data[table] = draw(values)
        elif action == "delete":
            if isinstance(data.get(table), dict):
                data[table].pop(key, None)
        else:
            data.setdefault(table, {})
            if isinstance(data[table], dict):
                data[table][key] = draw(values)
    return data


def _check(result: Any) -> None:
    assert isinstance(result, cp.Campaign)
    for text in (result.title, result.petition_title, result.statement, result.return_address, result.branch):
        assert first_control(text) is None
    assert len(result.petition_title) <= cp.MAX_PETITION_TITLE and len(result.statement) <= cp.MAX_STATEMENT
    assert len(result.branch) <= cp.MAX_BRANCH and result.rows >= 1


@FUZZ
@given(structures())
def test_any_structure_is_a_campaign_or_one_campaign_error(data: dict[str, Any]) -> None:
    try:
        result = cp.parse_campaign(data, Path("fuzz.toml"))
    except CampaignError as exc:
        assert exc.exit_code == 3 and "\n" not in exc.message and exc.message.startswith("fuzz.toml: ")
        return
    _check(result)


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_any_file_is_a_campaign_or_one_campaign_error(fuzz_dir: Path, raw: bytes) -> None:
    path = fuzz_dir / "fuzz-campaign.toml"
    path.write_bytes(raw)
    try:
        result = cp.load_campaign(path)
    except CampaignError as exc:
        assert exc.exit_code == 3 and str(path) in exc.message
        return
    _check(result)
