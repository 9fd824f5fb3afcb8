"""Horizontal bar charts drawn on the server as inline SVG (no script, no
CDN): the geometry is computed here, `templates/portal/_bar_chart.html` draws
it. A chart is an image with a title and a description for screen readers;
its figures are always also given in a table beside it."""

from dataclasses import dataclass, field

WIDTH = 640
LABEL_WIDTH = 230
VALUE_WIDTH = 90
BAR_HEIGHT = 16
BAR_GAP = 4
GROUP_GAP = 14
TOP = 8
LEGEND_HEIGHT = 24
LABEL_CHARS = 34
# Blue, green, grey of Bootstrap 5: each readable against white text and a white page.
COLOURS = ("#0d6efd", "#198754", "#6c757d")


@dataclass
class Series:
    name: str
    values: list  # numbers (None counts as 0)
    texts: list | None = None  # what is written after each bar; the value by default


@dataclass
class Chart:
    id: str
    title: str
    description: str
    width: int = WIDTH
    height: int = 0
    labels: list = field(default_factory=list)  # (x, y, text, full text)
    bars: list = field(default_factory=list)  # dicts: x, y, width, height, fill, text, text_x
    legend: list = field(default_factory=list)  # (x, y, fill, name)
    axis_x: int = LABEL_WIDTH


def short(text, limit=LABEL_CHARS):
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(*, id, title, description, categories, series, maximum=None):
    """A chart of one bar per series for each category. `maximum` fixes the
    full length of a bar (100 for percentages); by default, the largest value."""
    chart = Chart(id=id, title=title, description=description)
    top = TOP
    if len(series) > 1:
        x = LABEL_WIDTH
        for index, each in enumerate(series):
            chart.legend.append((x, top, COLOURS[index % len(COLOURS)], each.name))
            x += 24 + 8 * len(each.name) + 24
        top += LEGEND_HEIGHT
    values = [value or 0 for each in series for value in each.values]
    scale = maximum or max(values, default=0) or 1
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    y = top
    for position, category in enumerate(categories):
        group_height = len(series) * BAR_HEIGHT + (len(series) - 1) * BAR_GAP
        chart.labels.append((LABEL_WIDTH - 8, y + group_height / 2 + 4, short(category), category))
        for index, each in enumerate(series):
            value = each.values[position] or 0
            width = round(room * min(value, scale) / scale, 1)
            texts = each.texts or each.values
            chart.bars.append(
                {
                    "x": LABEL_WIDTH,
                    "y": y,
                    "width": width,
                    "height": BAR_HEIGHT,
                    "fill": COLOURS[index % len(COLOURS)],
                    "text": "" if texts[position] is None else texts[position],
                    "text_x": LABEL_WIDTH + width + 6,
                    "text_y": y + BAR_HEIGHT - 4,
                }
            )
            y += BAR_HEIGHT + BAR_GAP
        y += GROUP_GAP - BAR_GAP
    chart.height = max(y, top + BAR_HEIGHT) + TOP
    return chart


def percent_text(value):
    """66.7 -> '66,7 %'; None (nobody presented) -> '–'."""
    if value is None:
        return "–"
    number = f"{value:.1f}".replace(".", ",").removesuffix(",0")
    return f"{number} %"


def rate_chart(*, label, rates, **chart):
    """A bar chart of percentages, each bar labelled with its rate."""
    series = Series(label, rates, [percent_text(rate) for rate in rates])
    return bar_chart(series=[series], maximum=100, **chart)
