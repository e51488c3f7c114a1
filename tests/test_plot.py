"""curves.png as Pillow draws it: round ticks, gaps at NaN, one panel per quantity."""

import math

import pytest
from PIL import Image

from nnspec.runtime import plot


@pytest.mark.parametrize(
    "low, high, integer, ticks",
    [
        (0.0, 1.0, False, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.37, 0.93, False, [0.4, 0.5, 0.6, 0.7, 0.8, 0.9]),
        (1.0, 60.0, True, [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]),
        (0.0, 2.0, True, [0.0, 1.0, 2.0]),  # one epoch: never a tick between epochs
        (-3e-5, 2e-5, False, [-3e-5, -2e-5, -1e-5, 0.0, 1e-5, 2e-5]),
    ],
)
def test_ticks_are_round_numbers_inside_the_range(low, high, integer, ticks):
    assert plot._ticks(low, high, integer) == pytest.approx(ticks, abs=1e-12)


def test_a_value_that_is_not_finite_splits_the_curve():
    rows = [{"epoch": e, "val_loss": v} for e, v in enumerate([1.0, math.nan, 0.5, math.inf, 0.4, 0.3], 1)]
    assert plot._points(rows, "val_loss") == [[(1.0, 1.0)], [(3.0, 0.5)], [(5.0, 0.4), (6.0, 0.3)]]


def test_one_panel_per_quantity_with_both_splits_drawn(tmp_path):
    rows = [
        {"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "train_accuracy": 1 - 0.5 / e, "lr": 0.1}
        for e in range(1, 41)
    ]
    path = tmp_path / "curves.png"
    plot.plot_curves(rows, str(path))
    image = Image.open(path).convert("RGB")
    assert image.size == (2 * plot.PANEL[0], plot.PANEL[1])  # loss, accuracy; lr is not a curve
    left, right = image.crop((0, 0, plot.PANEL[0], plot.PANEL[1])), image.crop((plot.PANEL[0], 0, *image.size))
    assert _has(left, plot.COLORS["train"]) and _has(left, plot.COLORS["val"])
    assert _has(right, plot.COLORS["train"]) and not _has(right, plot.COLORS["val"], legend=False)


def _has(image, color, legend=True):
    """Whether some pixel is close to `color` (the plot area only, unless `legend`)."""
    if not legend:
        image = image.crop((plot.MARGIN[0], image.height // 2, image.width - 80, image.height - plot.MARGIN[3]))
    return any(sum(abs(a - b) for a, b in zip(pixel, color)) < 30 for pixel in image.get_flattened_data())
