"""Name models are kept in the user's data folder: the kept one is the built one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from petitionscan.recognize import names


def _same(a: names.NameModel, b: names.NameModel) -> bool:
    return (
        np.array_equal(a.logp, b.logp)
        and a.words == b.words
        and a.pieces == b.pieces
        and a.by_length.keys() == b.by_length.keys()
        and all(
            np.array_equal(a.by_length[k][0], b.by_length[k][0])
            and np.array_equal(a.by_length[k][1], b.by_length[k][1])
            and a.by_length[k][2] == b.by_length[k][2]
            for k in a.by_length
        )
    )


def test_a_kept_model_is_the_built_one_and_a_damaged_one_is_built_again(_isolated_home: Path) -> None:
    names.load_model.cache_clear()
    try:
        built = names.load_model(names.GIVEN, "latin")
        path = names.cache_path(names.GIVEN, "latin")
        assert path.is_file() and path.is_relative_to(_isolated_home)
        kept = names.cached_model(path, names.LATIN)
        assert kept is not None and _same(built, kept)
        assert names.decode([[[("A", 0.6), ("N", 0.4)], [("N", 0.9)], [("N", 0.9)], [("A", 0.9)]]], kept).chars == (
            names.decode([[[("A", 0.6), ("N", 0.4)], [("N", 0.9)], [("N", 0.9)], [("A", 0.9)]]], built).chars
        )
        path.write_bytes(b"not a model")
        assert names.cached_model(path, names.LATIN) is None
        names.load_model.cache_clear()
        assert _same(built, names.load_model(names.GIVEN, "latin"))
        assert names.cached_model(path, names.LATIN) is not None  # written again, whole
    finally:
        names.load_model.cache_clear()
