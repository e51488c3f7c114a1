"""curves.png: train and validation loss and metrics per epoch, from the run's rows.

Drawn with Pillow (already needed for image data), not matplotlib: torchmetrics imports
matplotlib, and with it about a second, in every program that has metrics whenever matplotlib is
installed. One panel per quantity, drawn at twice the size and scaled down, which smooths the lines.
"""

from __future__ import annotations

import math

SCALE = 2  # drawn at twice the pixels, then resized: antialiased lines and text
PANEL = (450, 350)  # pixels of one panel (width, height) in the saved image
MARGIN = (62, 34, 16, 44)  # left, top, right, bottom: room for tick labels and titles
COLORS = {"train": (31, 119, 180), "val": (255, 127, 14)}
GRID, AXES, TEXT = (225, 225, 225), (80, 80, 80), (20, 20, 20)


def plot_curves(rows: list[dict], path: str) -> None:
    from PIL import Image, ImageDraw, ImageFont

    names = sorted(
        {k.split("_", 1)[1] for row in rows for k in row if k.startswith(("train_", "val_"))}, key=lambda n: n != "loss"
    )
    width, height = PANEL[0] * SCALE, PANEL[1] * SCALE
    image = Image.new("RGB", (width * len(names), height), "white")
    draw = ImageDraw.Draw(image)
    fonts = ImageFont.load_default(size=11 * SCALE), ImageFont.load_default(size=13 * SCALE)
    for i, name in enumerate(names):
        series = {split: _points(rows, f"{split}_{name}") for split in COLORS if f"{split}_{name}" in rows[0]}
        _panel(draw, fonts, (i * width, 0), name.replace("_", " "), series, marked=len(rows) < 30)
    image.resize((image.width // SCALE, image.height // SCALE), Image.Resampling.LANCZOS).save(path)


def _points(rows: list[dict], key: str) -> list[list[tuple[float, float]]]:
    """Runs of (epoch, value) between values that are not finite: a NaN leaves a gap, not a spike."""
    runs: list[list[tuple[float, float]]] = [[]]
    for row in rows:
        value = _number(row.get(key))
        if value is None:
            runs.append([])
        else:
            runs[-1].append((float(row["epoch"]), value))
    return [run for run in runs if run]


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _panel(draw, fonts, origin, title, series, marked) -> None:
    small, large = fonts
    left, top = origin[0] + MARGIN[0] * SCALE, origin[1] + MARGIN[1] * SCALE
    right = origin[0] + (PANEL[0] - MARGIN[2]) * SCALE
    bottom = origin[1] + (PANEL[1] - MARGIN[3]) * SCALE
    points = [p for runs in series.values() for run in runs for p in run]
    xs, ys = _span([x for x, _ in points], integer=True), _span([y for _, y in points], integer=False)
    box = (left, top, right, bottom)

    def at(x: float, y: float) -> tuple[float, float]:
        return (
            left + (x - xs[0]) / (xs[1] - xs[0]) * (right - left),
            bottom - (y - ys[0]) / (ys[1] - ys[0]) * (bottom - top),
        )

    for value in _ticks(*xs, integer=True):
        x, _ = at(value, ys[0])
        draw.line([(x, top), (x, bottom)], fill=GRID, width=SCALE)
        draw.text((x, bottom + 6 * SCALE), _label(value), font=small, fill=TEXT, anchor="ma")
    for value in _ticks(*ys, integer=False):
        _, y = at(xs[0], value)
        draw.line([(left, y), (right, y)], fill=GRID, width=SCALE)
        draw.text((left - 6 * SCALE, y), _label(value), font=small, fill=TEXT, anchor="rm")
    draw.rectangle(box, outline=AXES, width=SCALE)
    for split, runs in series.items():
        for run in runs:
            _curve(draw, [at(x, y) for x, y in run], COLORS[split], marked)
    draw.text(((left + right) / 2, origin[1] + 10 * SCALE), title, font=large, fill=TEXT, anchor="ma")
    draw.text(((left + right) / 2, bottom + 24 * SCALE), "epoch", font=small, fill=TEXT, anchor="ma")
    # The legend goes in the right-hand corner the curves leave emptier (top for falling losses).
    upper = sum(y > (ys[0] + ys[1]) / 2 for x, y in points if x > (xs[0] + xs[1]) / 2)
    lower = sum(y < (ys[0] + ys[1]) / 2 for x, y in points if x > (xs[0] + xs[1]) / 2)
    _legend(draw, small, (right - 8 * SCALE, top + 8 * SCALE, bottom - 8 * SCALE), list(series), upper > lower)


def _curve(draw, points, color, marked) -> None:
    if len(points) > 1:
        draw.line(points, fill=color, width=2 * SCALE, joint="curve")
    if marked or len(points) == 1:
        r = 2.5 * SCALE
        for x, y in points:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=color)


def _legend(draw, font, edges, splits, low) -> None:
    """A box naming each line's split at the top right, or the bottom right when `low`."""
    line_height, swatch = 16 * SCALE, 18 * SCALE
    text_width = max(draw.textlength(s, font=font) for s in splits)
    x1, top, bottom = edges
    y0 = bottom - line_height * len(splits) - 6 * SCALE if low else top
    x0 = x1 - text_width - swatch - 14 * SCALE
    draw.rectangle((x0, y0, x1, y0 + line_height * len(splits) + 6 * SCALE), fill="white", outline=GRID)
    for i, split in enumerate(splits):
        y = y0 + 3 * SCALE + line_height * i + line_height / 2
        draw.line([(x0 + 5 * SCALE, y), (x0 + 5 * SCALE + swatch, y)], fill=COLORS[split], width=2 * SCALE)
        draw.text((x0 + 9 * SCALE + swatch, y), split, font=font, fill=TEXT, anchor="lm")


def _span(values: list[float], integer: bool) -> tuple[float, float]:
    """The axis range: the data's with a little room, never empty."""
    if not values:
        return (0.0, 1.0)
    low, high = min(values), max(values)
    if integer and high == low:
        return (low - 1, high + 1)
    room = (high - low) * (0.03 if integer else 0.05) or abs(high) * 0.1 or 1.0
    return (low - room, high + room)


def _ticks(low: float, high: float, integer: bool, count: int = 5) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten) from `low` to `high`: the finest such step
    that gives at most `count` + 2 of them."""
    power = 10 ** math.floor(math.log10((high - low) / count))
    step = next(m * power for m in (1, 2, 5, 10) if (high - low) / (m * power) <= count + 2)
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(low / step - 1e-9) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _label(value: float) -> str:
    return f"{value:.4g}" if abs(value) >= 1e-12 else "0"
