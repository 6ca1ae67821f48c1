"""report.html: one self-contained analyst report (no network needed to open it).

Charts are plotly figures; plotly.js (its 1.2 MB "basic" bundle, koe/assets) is inlined once in
the page head and every figure is written with ``include_plotlyjs=False``, so the file opens
offline. All user text goes through jinja2's autoescape; text inside plotly figures is
HTML-escaped too (plotly reads a subset of HTML in labels) and plotly writes its JSON with
``<``, ``>`` and ``/`` escaped. Comment text shown in the report is PII-masked like the routed
files.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import cache
from html.parser import HTMLParser
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from koe import __version__
from koe.analysis.journey import overall_scores
from koe.analysis.metrics import metric_range
from koe.analysis.nps import nps_by_period, nps_summary
from koe.charts import FONT_STACK, driver_figure, driver_key, segment_figure, trend_figure
from koe.core.frames import THEME_SOURCES
from koe.core.resources import resource_path
from koe.core.safety import mask_personal_data
from koe.core.scores import ScoreScale

PLOTLY_BUNDLE = "plotly-basic.min.js"  # scatter, bar, pie: the traces koe's charts use
MAX_DRILLDOWN_THEMES = 30
EXAMPLES_PER_POLARITY = 3


@cache
def plotly_js() -> str:
    """plotly.js's basic bundle (koe/assets): a quarter of the full one, half the time to open."""
    return resource_path("koe", "assets", PLOTLY_BUNDLE).read_text(encoding="utf-8")


def _fmt(value: Any, digits: int = 1, signed: bool = True) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if not isinstance(value, float):
        return str(value)
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _num(value: Any) -> str:
    """A number for a ``data-v`` sort attribute ("" when missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(float(value))


def highlight(text: str, spans: list[tuple[int, int]], *, mask_pii: bool = True) -> Markup:
    """``text`` escaped, with the character ranges ``spans`` wrapped in <mark>.

    Overlapping spans are merged. PII masking is applied piece by piece (offsets refer to the
    unmasked text).
    """
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif start < end:
            merged.append([start, end])

    def piece(s: str) -> str:
        return mask_personal_data(s) if mask_pii else s

    out = []
    pos = 0
    for start, end in merged:
        out.append(escape(piece(text[pos:start])))
        out.append(Markup("<mark>%s</mark>") % piece(text[start:end]))
        pos = end
    out.append(escape(piece(text[pos:])))
    return Markup("").join(out)


def _evidence_span(text: str, tag: dict) -> tuple[int, int] | None:
    start, end, evidence = tag.get("start"), tag.get("end"), str(tag.get("evidence") or "")
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError):
        start = end = -1
    if 0 <= start < end <= len(text) and (not evidence or text[start:end] == evidence):
        return start, end
    found = text.find(evidence) if evidence else -1
    return (found, found + len(evidence)) if found >= 0 else None


_CLASS_RANK = {
    "negative": {"detractor": 0, "passive": 1, "promoter": 2},
    "positive": {"promoter": 0, "passive": 1, "detractor": 2},
}


def theme_drilldown(
    comments: pd.DataFrame,
    tags: pd.DataFrame,
    drivers: pd.DataFrame,
    *,
    mask_pii: bool = True,
    max_themes: int = MAX_DRILLDOWN_THEMES,
    per_polarity: int = EXAMPLES_PER_POLARITY,
) -> list[dict[str, Any]]:
    """Per lookup theme (most impact first): its driver rows and representative comments.

    Representatives per polarity: comments whose class fits the polarity first (detractors for
    negative mentions, promoters for positive), then comments of about 60 characters, then id;
    the evidence of that theme is highlighted with <mark>.
    """
    lookup = drivers[drivers["source"].isin(THEME_SOURCES) & (drivers["polarity"] != "any")]
    if lookup.empty or tags.empty:
        return []
    strength = (
        lookup.assign(_rank=lookup["small_n"].astype(bool).astype(int), _abs=lookup["impact"].abs())
        .groupby("theme", sort=False)
        .agg(_rank=("_rank", "min"), _abs=("_abs", "max"), mentions=("mentions", "sum"))
        .sort_values(["_rank", "_abs", "mentions"], ascending=[True, False, False])
    )
    by_comment = (
        comments.drop_duplicates("id")
        .set_index("id")[["text", "score", "nps_class"]]
        .to_dict("index")
    )
    theme_tags = tags[tags["source"].isin(THEME_SOURCES)]
    out = []
    for theme in strength.index[:max_themes]:
        rows = lookup[lookup["theme"] == theme]
        own = theme_tags[theme_tags["theme"] == theme]
        sections = []
        order = rows.assign(_small=rows["small_n"].astype(bool), _abs=rows["impact"].abs())
        order = order.sort_values(["_small", "_abs"], ascending=[True, False], na_position="last")
        for row in order.drop(columns=["_small", "_abs"]).to_dict("records"):
            pol = row["polarity"]
            mentions = own[own["polarity"] == pol]
            ids = [i for i in dict.fromkeys(mentions["id"]) if i in by_comment]
            rank = _CLASS_RANK.get(pol, {})
            ids.sort(key=lambda i: (
                rank.get(by_comment[i]["nps_class"], 0),
                abs(len(str(by_comment[i]["text"])) - 60), str(i),
            ))  # fmt: skip
            examples = []
            for cid in ids[:per_polarity]:
                info = by_comment[cid]
                text = str(info["text"])
                spans = [
                    s for t in mentions[mentions["id"] == cid].to_dict("records")
                    if (s := _evidence_span(text, t)) is not None
                ]  # fmt: skip
                examples.append(
                    {"id": cid, "score": info["score"], "nps_class": info["nps_class"],
                     "html": highlight(text, spans, mask_pii=mask_pii)}
                )  # fmt: skip
            sections.append({**row, "examples": examples})
        first = rows.iloc[0]
        out.append(
            {"theme": theme, "theme_name": first["theme_name"], "department": first["department"],
             "sections": sections}
        )  # fmt: skip
    return out


def _emergent(emergent: pd.DataFrame, mask_pii: bool) -> list[dict[str, Any]]:
    out = []
    for row in emergent.to_dict("records"):
        reps = [r for r in str(row.get("representatives") or "").split(" | ") if r]
        out.append(
            {**row, "examples": [mask_personal_data(r) if mask_pii else r for r in reps],
             "command": f"koe themes accept {row['cluster_id']} --as THEME_ID "
                        "--department DEPARTMENT"}
        )  # fmt: skip
    return out


def report_context(
    *,
    run_id: str,
    input_path: str,
    comments: pd.DataFrame,
    drivers: pd.DataFrame,
    emergent: pd.DataFrame,
    routed_counts: dict[str, int],
    quarantine: pd.DataFrame,
    counts: dict[str, int],
    messages: list[str],
    analysis: Any,
    min_mentions: int,
    min_n: int,
    tags: pd.DataFrame | None = None,
    close_the_loop: dict[str, int] | None = None,
    mask_pii: bool = True,
) -> dict[str, Any]:
    """Everything report.html shows, from the run's frames (``analysis``: AnalysisResult)."""
    weekly = (
        nps_by_period(comments, period="W", date_col="date", min_n=min_n)
        if comments["date"].notna().any()
        else pd.DataFrame()
    )
    if not weekly.empty:
        weekly = weekly.assign(period=weekly["period"].dt.strftime("%Y-%m-%d"))
    overall = nps_summary(comments["score"], min_n=min_n)
    segments = analysis.segments
    segment_rows = (
        segments[~segments["small_n"]].sort_values("nps_vs_rest", key=abs, ascending=False).head(20)
    )
    departments = sorted(routed_counts)
    sentiment = (
        comments["sentiment"].value_counts().reindex(["positive", "neutral", "negative"],
                                                     fill_value=0).to_dict()
        if "sentiment" in comments else None
    )  # fmt: skip
    return {
        "sentiment": sentiment,
        "run_id": run_id,
        "input_path": input_path,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "font_stack": Markup(FONT_STACK),  # a constant; inside <style>, entities would break it
        "plotly_js": Markup(plotly_js()),  # inlined once
        "overall": overall,
        "counts": counts,
        "messages": messages,
        "drivers": _with_shown(drivers).to_dict("records"),
        "driver_chart": driver_figure(drivers),
        "driver_key": driver_key(drivers),
        "top_drivers": TOP_DRIVERS,
        "max_shown": MAX_SHOWN_DRIVERS,
        "trend_chart": trend_figure(weekly, overall),
        "segment_chart": segment_figure(segments, overall),
        "weekly": weekly.to_dict("records"),
        "emergent": _emergent(emergent, mask_pii),
        "departments": departments,
        "drilldown": theme_drilldown(comments, tags, drivers, mask_pii=mask_pii)
        if tags is not None
        else [],
        "routed": [
            {
                "department": d,
                "rows": routed_counts[d],
                "file": f"routed/{d}.csv",
                "xlsx": f"routed/{d}.xlsx",
            }
            for d in departments
        ],
        "close_the_loop": [
            {"name": n, "rows": r, "file": f"routed/{n}.csv", "xlsx": f"routed/{n}.xlsx"}
            for n, r in (close_the_loop or {}).items()
        ],
        "quarantine": [
            {"reason": r, "rows": int(n)}
            for r, n in quarantine["reason"].value_counts().sort_index().items()
        ],
        "min_mentions": min_mentions,
        "warnings": analysis.warnings.to_dict("records"),
        "segments": segment_rows.to_dict("records"),
        "regression": analysis.regression[analysis.regression["target"] == "detractor"]
        .head(20)
        .to_dict("records"),
        "subscores": analysis.subscores.to_dict("records"),
    }


class _ExternalRefs(HTMLParser):
    RESOURCE_ATTRS = frozenset({"src", "href", "data", "poster", "srcset", "background"})

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            v = (value or "").strip().lower()
            if tag == "a" and name == "href":  # a link the reader may follow: only no web URLs
                bad = v.startswith(("http:", "https:", "//", "ftp:"))
            elif name in self.RESOURCE_ATTRS:  # loaded with the page: only in-page data
                bad = bool(v) and not v.startswith(("#", "data:"))
            else:
                bad = name == "style" and "url(" in v
            if bad:
                self.found.append(f"<{tag} {name}={value!r}>")


def external_references(page: str) -> list[str]:
    """Elements of an HTML page that load another file or URL, or link to the web.

    Relative ``<a href>`` links (to the run folder's CSV files) are fine; the text of scripts
    is not read (plotly.js names URLs in strings it never loads).
    """
    parser = _ExternalRefs()
    parser.feed(page)
    return parser.found


# The driver table shows the rows with enough mentions that are significant or among the
# largest |impact|, at most MAX_SHOWN_DRIVERS; the rest sit behind a toggle.
TOP_DRIVERS = 20
MAX_SHOWN_DRIVERS = 30


METRIC_TABLE_ROWS = 10
RISK_ROWS = 15


def score_context(driver_table: pd.DataFrame, journey: dict[str, pd.DataFrame],
                  scales: list[ScoreScale], primary: str,
                  comments: pd.DataFrame | None = None) -> dict[str, Any]:  # fmt: skip
    """The report's parts for scores beyond NPS: the primary's label, a card per other score
    (from ``comments``), a driver table per other score (its largest impacts), the journey
    cells (one row per cell, one column per score), the cell comparisons and the churn-risk
    view. ``journey``: AnalysisResult.journey."""
    by_name = {s.name: s for s in scales}
    label = "NPS" if primary == "nps" else f"{primary} ({by_name[primary].unit})"
    tables = []
    if "metric" in driver_table:
        for scale in scales:
            rows = driver_table[(driver_table["metric"] == scale.name) & ~driver_table["small_n"]]
            if scale.name == primary or rows.empty:
                continue
            rows = rows.assign(shown=True).head(METRIC_TABLE_ROWS)
            tables.append({"name": scale.name, "kind": scale.kind, "unit": scale.unit,
                           "rows": rows.to_dict("records")})  # fmt: skip
    cells = journey.get("journey.csv")
    journey_rows, metrics = [], []
    if cells is not None and not cells.empty:
        metrics = [m for m in by_name if m in set(cells["metric"])]
        for cell, group in cells.groupby("cell", sort=False):
            per = {r["metric"]: r for r in group.to_dict("records")}
            journey_rows.append({"cell": cell, "n": int(group["n"].max()),
                                 "metrics": [per.get(m) for m in metrics]})  # fmt: skip
    risk = journey.get("churn_risk.csv")
    comparisons = journey.get("journey_comparisons.csv")
    by_segment = journey.get("segment_scores.csv")
    if by_segment is not None and not by_segment.empty:
        by_segment = by_segment[by_segment["q_value"] < 0.05].sort_values("q_value", kind="stable")
    cards = overall_scores(comments, [s for s in scales if s.name != "nps"]) \
        if comments is not None else []  # fmt: skip
    charts = {}
    if primary != "nps":  # the charts follow the primary score
        rows = driver_table[driver_table["metric"] == primary] if "metric" in driver_table else None
        if rows is not None:
            charts["driver_chart"] = driver_figure(rows, label=label)
            charts["driver_key"] = driver_key(rows)  # the numbers of that chart
        trend = journey.get("score_trend.csv")
        if trend is not None:
            mine = trend[trend["metric"] == primary].rename(columns={"cell": "period",
                                                                     "value": "nps"})  # fmt: skip
            overall = next((c["value"] for c in cards if c["name"] == primary), math.nan)
            y_range = metric_range(by_name[primary])
            charts["trend_chart"] = trend_figure(mine, {"nps": overall}, label=label,
                                                 y_range=y_range)  # fmt: skip
    return {
        **charts,
        "score_cards": cards,
        "segment_scores": [] if by_segment is None else by_segment.head(RISK_ROWS).to_dict(
            "records"),
        "metric_label": label,
        "metric_tables": tables,
        "journey_name": "" if cells is None or cells.empty else cells["journey"].iloc[0],
        "journey_metrics": metrics,
        "journey_rows": journey_rows,
        "comparisons": [] if comparisons is None else comparisons.to_dict("records"),
        "churn_risk": [] if risk is None else risk.head(RISK_ROWS).to_dict("records"),
        "risk_metric": "" if risk is None or risk.empty else risk["metric"].iloc[0],
    }


def _with_shown(drivers: pd.DataFrame) -> pd.DataFrame:
    """``drivers`` plus ``shown`` (bool): the rows the report's table shows by default."""
    out = drivers.copy()
    if out.empty:
        out["shown"] = pd.Series(dtype=bool)
        return out
    big = ~out["small_n"].astype(bool) & out["impact"].notna()
    rank = out["impact"].astype(float).abs().where(big).rank(ascending=False, method="first")
    significant = out["significant"].astype(bool) if "significant" in out else False
    keep = big & ((rank <= TOP_DRIVERS) | significant)
    order = rank.where(keep).rank(method="first")
    out["shown"] = (keep & (order <= MAX_SHOWN_DRIVERS)).to_numpy()
    return out


def render_report(context: dict[str, Any]) -> str:
    """Render report.html: one file, inline CSS, JS and plotly.js; no external resources."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("koe", "templates"),
        autoescape=True,
    )
    impacts = [abs(d["impact"]) for d in context["drivers"] if not math.isnan(d["impact"])]
    scale = 160 / max(impacts) if impacts and max(impacts) > 0 else 0
    env.globals.update(
        fmt=_fmt,
        num=_num,
        pct=lambda a, b: f"{100 * a / b:.0f}%" if b else "–",
        bar=lambda v: 0 if v is None or math.isnan(v) else min(160, max(1, round(abs(v) * scale))),
    )
    page = env.get_template("report.html.j2").render(**context)
    refs = external_references(page)
    if refs:  # the report must open offline
        raise ValueError(f"report.html would load external resources: {refs[:3]}")
    return page
