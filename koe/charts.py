"""The report's plotly charts: NPS trend, drivers (mentions against impact with intervals) and
segments. Text in a figure is HTML-escaped (plotly reads a subset of HTML in labels); figures are
written without plotly.js, which the report inlines once."""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup

FONT_STACK = (
    '"Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Hiragino Kaku Gothic ProN", '
    '"Yu Gothic", YuGothic, Meiryo, "Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", '
    "sans-serif"
)
POLARITY_COLORS = {"positive": "#2e8b57", "negative": "#d9534f", "neutral": "#8a8a8a"}
MAX_SEGMENT_ROWS = 40
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def _plain(text: Any) -> str:
    """User text for a plotly label: plotly reads <b>, <a href> etc., so escape it."""
    return html.escape(str(text), quote=False)


def _figure_html(fig: go.Figure, div_id: str, margin: dict[str, int] | None = None) -> Markup:
    fig.update_layout(
        font={"family": FONT_STACK, "size": 13},
        template="plotly_white",
        margin=margin or {"l": 60, "r": 20, "t": 40, "b": 50},
    )
    return Markup(  # plotly escapes <, > and / in its JSON; labels are escaped
        fig.to_html(
            full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOTLY_CONFIG,
            default_height="420px",
        )
    )  # fmt: skip


def trend_figure(weekly: pd.DataFrame, overall: dict[str, Any], label: str = "NPS",
                 y_range: tuple[float, float] = (-100, 100)) -> Markup | None:  # fmt: skip
    """Weekly NPS (or another score, ``label``: its values in the ``nps`` column) with its 95%
    interval; periods below min_n drawn hollow."""
    if weekly.empty:
        return None
    fig = go.Figure()
    for small, symbol, name in ((False, "circle", label), (True, "circle-open",
                                                         f"{label} (small n)")):  # fmt: skip
        part = weekly[weekly["small_n"] == small]
        if part.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=part["period"], y=part["nps"], mode="markers", name=name,
                marker={"symbol": symbol, "size": 9, "color": "#1f5fa8"},
                error_y={"type": "data", "symmetric": False,
                         "array": (part["ci_high"] - part["nps"]).tolist(),
                         "arrayminus": (part["nps"] - part["ci_low"]).tolist()},
                customdata=part[["n", "ci_low", "ci_high"]].to_numpy(),
                hovertemplate="week of %{x}<br>" + _plain(label)
                + " %{y:.1f} (95% CI %{customdata[1]:.1f} … "
                "%{customdata[2]:.1f})<br>n = %{customdata[0]}<extra></extra>",
            )
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=weekly["period"], y=weekly["nps"], mode="lines", showlegend=False,
            line={"color": "#1f5fa8", "width": 1}, hoverinfo="skip",
        )
    )  # fmt: skip
    if not math.isnan(overall["nps"]):
        fig.add_hline(
            y=overall["nps"], line_dash="dot", line_color="#666",
            annotation_text=f"overall {overall['nps']:+.1f}",
        )  # fmt: skip
    fig.update_layout(xaxis_title="week", yaxis_title=_plain(label), yaxis_range=list(y_range))
    fig.update_xaxes(type="category")
    return _figure_html(fig, "fig-trend")


def _charted_drivers(drivers: pd.DataFrame) -> pd.DataFrame:
    """The driver rows the chart plots: one polarity, enough mentions, an impact."""
    rows = drivers[(drivers["polarity"] != "any") & ~drivers["small_n"].astype(bool)]
    return rows[rows["impact"].notna()]


def _top_drivers(rows: pd.DataFrame, label_top: int) -> list:
    """Index of the ``label_top`` rows with the largest |impact|, largest first."""
    return list(rows["impact"].astype(float).abs().nlargest(label_top).index)


# label placement on the driver chart: its axes' ranges are fixed, so a point's place in
# pixels is known up to the chart's width, which follows the page; a place is checked at a
# narrow and at the widest width (the report's column), so that it holds in between
DRIVER_HEIGHT = 520
DRIVER_MARGIN = {"l": 60, "r": 140, "t": 40, "b": 50}
PLOT_HEIGHT = DRIVER_HEIGHT - DRIVER_MARGIN["t"] - DRIVER_MARGIN["b"] - 13  # the x title's room
PLOT_WIDTHS = (500, 950)
MARKER_SIZE = 10
LABEL_FONT_SIZE = 11
_LABEL_POSITIONS = ("top center", "bottom center", "middle right", "middle left",
                    "top right", "top left", "bottom right", "bottom left")  # fmt: skip
# where plotly draws a label of LABEL_FONT_SIZE around a marker of MARKER_SIZE (measured in
# Chromium): the box's centre, in pixels from the point, per vertical / horizontal place
_LABEL_DY = {"top": -15.0, "middle": -2.3, "bottom": 10.5}
_LABEL_DX_REACH = 7.3  # plus half the label's width, left or right


def _padded(lo: float, hi: float, share: float, least: float) -> list[float]:
    span = hi - lo
    if span < least:
        middle = (lo + hi) / 2
        lo, hi, span = middle - least / 2, middle + least / 2, least
    return [lo - share * span, hi + share * span]


def _driver_ranges(rows: pd.DataFrame) -> tuple[list[float], list[float]]:
    """The x range (log10 of mentions) and the y range (impact, its intervals and 0)."""
    logs = rows["mentions"].astype(float).clip(lower=1).map(math.log10)
    ys = pd.concat([rows["impact"], rows["impact_ci_low"], rows["impact_ci_high"]])
    ys = ys.astype(float).dropna()
    return (_padded(logs.min(), logs.max(), 0.06, 0.5),
            _padded(min(ys.min(), 0.0), max(ys.max(), 0.0), 0.08, 1.0))  # fmt: skip


def _label_box(x: float, y: float, text: str, position: str) -> tuple[float, float, float, float]:
    """The pixel box (left, top, right, bottom) of ``text`` at ``position`` around (x, y)."""
    width, height = 0.56 * LABEL_FONT_SIZE * len(text) + 1, LABEL_FONT_SIZE + 5
    vertical, horizontal = position.split()
    reach = _LABEL_DX_REACH + width / 2
    cx = x + {"left": -reach, "center": 0.0, "right": reach}[horizontal]
    cy = y + _LABEL_DY[vertical]
    return (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


def _overlap(a: tuple, b: tuple, pad: float = 2.0) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0]) + pad
    h = min(a[3], b[3]) - max(a[1], b[1]) + pad
    return max(w, 0.0) * max(h, 0.0)


def label_positions(rows: pd.DataFrame, labels: dict[Any, str],
                    ranges: tuple[list[float], list[float]],
                    budget: int = 5_000) -> dict[Any, str]:  # fmt: skip
    """A textposition for the labelled rows (``labels``: index → text, in rank order) so that
    no two labels cover each other at any of PLOT_WIDTHS and none leaves the chart, preferring
    places that cover no other point. A depth-first search over the eight places around each
    point (``budget`` steps a round); where the points crowd so that not all fit, the fewest
    labels are left out, the lowest ranked first: those rows are missing from the answer."""
    (x0, x1), (y0, y1) = ranges
    logs = rows["mentions"].astype(float).clip(lower=1).map(math.log10)
    py = (y1 - rows["impact"].astype(float)) / (y1 - y0) * PLOT_HEIGHT
    views = [(width, (logs - x0) / (x1 - x0) * width) for width in PLOT_WIDTHS]
    radius = MARKER_SIZE / 2 + 1

    def boxes_of(i: Any, position: str) -> list[tuple]:
        return [_label_box(px[i], py[i], labels[i], position) for _, px in views]

    def covered(i: Any, position: str) -> float | None:
        """How much of other points a place covers; None where it leaves the chart."""
        total = 0.0
        for (width, px), box in zip(views, boxes_of(i, position), strict=True):
            if not (box[0] >= -DRIVER_MARGIN["l"] and box[2] <= width + DRIVER_MARGIN["r"]
                    and box[1] >= -DRIVER_MARGIN["t"] + 4
                    and box[3] <= PLOT_HEIGHT + DRIVER_MARGIN["b"]):  # fmt: skip
                return None
            total += sum(_overlap(box, (px[j] - radius, py[j] - radius, px[j] + radius,
                                        py[j] + radius), 0.0)
                         for j in rows.index if j != i)  # fmt: skip
        return total

    order = list(labels)
    choices = {}
    for i in order:
        costs = {p: c for p in _LABEL_POSITIONS if (c := covered(i, p)) is not None}
        choices[i] = sorted(costs, key=lambda p, costs=costs: (costs[p],
                                                               _LABEL_POSITIONS.index(p)))
    chosen: dict[Any, str] = {}
    placed: list[list[tuple]] = []

    def search(k: int, skips: int, steps: list[int]) -> bool:
        if k == len(order):
            return True
        i = order[k]
        for position in choices[i]:
            steps[0] += 1
            if steps[0] > budget:
                return False
            boxes = boxes_of(i, position)
            if any(_overlap(a, b) > 0 for other in placed
                   for a, b in zip(boxes, other, strict=True)):  # fmt: skip
                continue
            chosen[i] = position
            placed.append(boxes)
            if search(k + 1, skips, steps):
                return True
            placed.pop()
            del chosen[i]
        # leave this label out, if the round allows one more: lower ranks are tried first,
        # as they come later in the search
        return skips > 0 and search(k + 1, skips - 1, steps)

    for skips in range(len(order) + 1):
        chosen.clear()
        placed.clear()
        if search(0, skips, [0]):
            break
    return dict(chosen)


def labelled_drivers(rows: pd.DataFrame, label_top: int = 10) -> dict[Any, tuple[str, str]]:
    """The charted rows that carry a number on the driver chart: index → (number,
    textposition). The ``label_top`` rows with the largest |impact|, numbered 1, 2 … by rank,
    less any whose number finds no free place (those are hovered and in the table)."""
    ranked = _top_drivers(rows, label_top)
    if not ranked:
        return {}
    draft = {i: str(r + 1) for r, i in enumerate(ranked)}
    positions = label_positions(rows, draft, _driver_ranges(rows))
    kept = [i for i in ranked if i in positions]
    # numbered again without gaps: a number only gets narrower, so no label grows into another
    return {i: (str(r + 1), positions[i]) for r, i in enumerate(kept)}


def driver_figure(drivers: pd.DataFrame, label_top: int = 10,
                  label: str = "NPS") -> Markup | None:  # fmt: skip
    """Theme volume (mentions) vs impact on NPS (or the score ``label`` names) with bootstrap
    CIs, colored by polarity."""
    rows = _charted_drivers(drivers)
    if rows.empty:
        return None
    # the top drivers carry their rank (1, 2 …), keyed to the list under the chart
    # (driver_key): a number next to a point does not collide with its neighbours the way
    # theme names do at volume; each number takes a free place around its point
    labelled = labelled_drivers(rows, label_top)
    ranges = _driver_ranges(rows)
    fig = go.Figure()
    for polarity, color in POLARITY_COLORS.items():
        part = rows[rows["polarity"] == polarity]
        if part.empty:
            continue
        names = [_plain(n) for n in part["theme_name"]]
        fig.add_trace(
            go.Scatter(
                x=part["mentions"], y=part["impact"], mode="markers+text", name=polarity,
                marker={"color": color, "size": MARKER_SIZE, "opacity": 0.85},
                text=[labelled.get(i, ("", ""))[0] for i in part.index],
                textposition=[labelled.get(i, ("", "top center"))[1] for i in part.index],
                textfont={"size": LABEL_FONT_SIZE}, cliponaxis=False,
                error_y={"type": "data", "symmetric": False, "color": color, "thickness": 1,
                         "array": (part["impact_ci_high"] - part["impact"]).fillna(0).tolist(),
                         "arrayminus": (part["impact"] - part["impact_ci_low"]).fillna(0).tolist()},
                customdata=list(zip(
                    names, [_plain(t) for t in part["theme"]], part["nps_mentioning"],
                    part["impact_ci_low"], part["impact_ci_high"], part["q_value"], strict=True,
                )),
                hovertemplate="<b>%{customdata[0]}</b> (%{customdata[1]})<br>"
                "mentions %{x} · " + _plain(label) + " mentioning %{customdata[2]:.1f}<br>"
                "impact %{y:+.2f} (95% CI %{customdata[3]:+.2f} … %{customdata[4]:+.2f})"
                "<br>q = %{customdata[5]:.3f}<extra>" + polarity + "</extra>",
            )
        )  # fmt: skip
    fig.add_hline(y=0, line_color="#999", line_width=1)
    fig.update_layout(
        xaxis_title="mentions (comments, log scale)",
        yaxis_title=f"impact on overall {_plain(label)}" + (" (points)" if label == "NPS" else ""),
        legend_title_text="polarity", height=DRIVER_HEIGHT,
    )  # fmt: skip
    # volumes span orders of magnitude: on a log axis the many small themes do not pile up
    # in one corner
    fig.update_xaxes(type="log", range=ranges[0])
    fig.update_yaxes(range=ranges[1])
    return _figure_html(fig, "fig-drivers", margin=DRIVER_MARGIN)


def driver_key(drivers: pd.DataFrame, label_top: int = 10) -> list[dict[str, Any]]:
    """The numbered drivers of :func:`driver_figure`: rank (the number on the chart),
    theme_name, theme, polarity and impact."""
    if drivers.empty:
        return []
    rows = _charted_drivers(drivers)
    labelled = labelled_drivers(rows, label_top)
    return [{"rank": int(number), "theme_name": row.theme_name, "theme": row.theme,
             "polarity": row.polarity, "impact": float(row.impact)}
            for row, (number, _) in ((rows.loc[i], labelled[i]) for i in labelled)]  # fmt: skip


def segment_figure(segments: pd.DataFrame, overall: dict[str, Any]) -> Markup | None:
    """NPS per segment value with 95% intervals against the overall NPS."""
    rows = segments[~segments["small_n"].astype(bool)].head(MAX_SEGMENT_ROWS)
    if rows.empty:
        return None
    labels = [f"{_plain(s)} = {_plain(v)}" for s, v in zip(rows["segment"], rows["value"],
                                                           strict=True)]  # fmt: skip
    significant = (rows["q_value"] < 0.05).fillna(False)
    fig = go.Figure(
        go.Scatter(
            x=rows["nps"], y=labels, mode="markers",
            marker={"size": 10, "color": ["#1f5fa8" if s else "#9bb3d1" for s in significant]},
            error_x={"type": "data", "symmetric": False, "color": "#555", "thickness": 1,
                     "array": (rows["ci_high"] - rows["nps"]).tolist(),
                     "arrayminus": (rows["nps"] - rows["ci_low"]).tolist()},
            customdata=rows[["n", "ci_low", "ci_high", "nps_vs_rest", "q_value"]].to_numpy(),
            hovertemplate="%{y}<br>NPS %{x:.1f} (95% CI %{customdata[1]:.1f} … "
            "%{customdata[2]:.1f}), n = %{customdata[0]}<br>vs rest %{customdata[3]:+.1f}, "
            "q = %{customdata[4]:.3f}<extra></extra>",
        )
    )  # fmt: skip
    if not math.isnan(overall["nps"]):
        fig.add_vline(x=overall["nps"], line_dash="dot", line_color="#666")
    fig.update_layout(
        xaxis_title="NPS (95% CI); dark = differs from the rest (q < 0.05)",
        xaxis_range=[-100, 100], height=max(260, 26 * len(rows) + 120),
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category")
    return _figure_html(fig, "fig-segments")
