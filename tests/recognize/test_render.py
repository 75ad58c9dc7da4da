"""The training renderer: stroke jitter changes training letters only."""

from __future__ import annotations

import numpy as np

from petitionscan.recognize.render import Sample, _jitter_strokes, render_field

# An A of three pen strokes (y downwards): two legs and a bar.
A_STROKES = (
    np.array([[0.0, 1.0], [0.5, 0.0]], np.float32),
    np.array([[0.5, 0.0], [1.0, 1.0]], np.float32),
    np.array([[0.25, 0.55], [0.75, 0.55]], np.float32),
)
A = Sample("A", "test-writer", strokes=A_STROKES)


def test_each_stroke_moves_on_its_own_and_keeps_its_shape() -> None:
    moved = _jitter_strokes(A_STROKES, 0.08, np.random.default_rng(1))
    bar_before = A_STROKES[2].mean(axis=0) - A_STROKES[0].mean(axis=0)
    bar_after = moved[2].mean(axis=0) - moved[0].mean(axis=0)
    assert not np.allclose(bar_before, bar_after, atol=1e-3)  # the bar sits elsewhere on the legs
    for before, after in zip(A_STROKES, moved, strict=True):
        # a turn and a resize of the stroke: lengths keep their ratio within a stroke
        ratio = np.linalg.norm(np.diff(after, axis=0)) / np.linalg.norm(np.diff(before, axis=0))
        assert 0.6 < ratio < 1.6


def test_no_jitter_by_default_so_benchmark_conditions_stay_fixed() -> None:
    plain = render_field([A], np.random.default_rng(5), degrade=True)[0]
    zero = render_field([A], np.random.default_rng(5), degrade=True, stroke_jitter=0.0)[0]
    jittered = render_field([A], np.random.default_rng(5), degrade=True, stroke_jitter=0.08)[0]
    assert np.array_equal(plain, zero)
    assert not np.array_equal(plain, jittered)


def test_clean_renders_ignore_jitter() -> None:
    a = render_field([A], np.random.default_rng(2), degrade=False)[0]
    b = render_field([A], np.random.default_rng(2), degrade=False, stroke_jitter=0.08)[0]
    assert np.array_equal(a, b)
