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


def _figure_html(fig: go.Figure, div_id: str) -> Markup:
    fig.update_layout(
        font={"family": FONT_STACK, "size": 13},
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 40, "b": 50},
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


def driver_figure(drivers: pd.DataFrame, label_top: int = 10,
                  label: str = "NPS") -> Markup | None:  # fmt: skip
    """Theme volume (mentions) vs impact on NPS (or the score ``label`` names) with bootstrap
    CIs, colored by polarity."""
    rows = _charted_drivers(drivers)
    if rows.empty:
        return None
    ranked = _top_drivers(rows, label_top)
    # the top drivers carry their rank (1, 2 …), keyed to the list under the chart
    # (driver_key): a number next to a point does not collide with its neighbours the way
    # theme names do at volume; neighbours in rank alternate above / below their point
    number = {i: str(r + 1) for r, i in enumerate(ranked)}
    position = {i: ("top center" if r % 2 == 0 else "bottom center") for r, i in enumerate(ranked)}
    fig = go.Figure()
    for polarity, color in POLARITY_COLORS.items():
        part = rows[rows["polarity"] == polarity]
        if part.empty:
            continue
        names = [_plain(n) for n in part["theme_name"]]
        fig.add_trace(
            go.Scatter(
                x=part["mentions"], y=part["impact"], mode="markers+text", name=polarity,
                marker={"color": color, "size": 10, "opacity": 0.85},
                text=[number.get(i, "") for i in part.index],
                textposition=[position.get(i, "top center") for i in part.index],
                textfont={"size": 11}, cliponaxis=False,
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
        legend_title_text="polarity", height=520, margin={"r": 140, "t": 40},
    )  # fmt: skip
    # volumes span orders of magnitude: on a log axis the many small themes do not pile up
    # in one corner
    fig.update_xaxes(type="log")
    return _figure_html(fig, "fig-drivers")


def driver_key(drivers: pd.DataFrame, label_top: int = 10) -> list[dict[str, Any]]:
    """The numbered drivers of :func:`driver_figure`: rank, theme_name, theme, polarity and
    impact of the ``label_top`` charted rows with the largest |impact|."""
    if drivers.empty:
        return []
    rows = _charted_drivers(drivers)
    top = rows.loc[_top_drivers(rows, label_top)]
    return [{"rank": r + 1, "theme_name": row.theme_name, "theme": row.theme,
             "polarity": row.polarity, "impact": float(row.impact)}
            for r, row in enumerate(top.itertuples(index=False))]  # fmt: skip


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
