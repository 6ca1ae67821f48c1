"""report.html: self-contained, plotly.js once, every section, user text escaped."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from koe.analysis.drivers import DRIVER_COLUMNS, compute_drivers
from koe.report import (
    FONT_STACK,
    external_references,
    highlight,
    plotly_js,
    render_report,
    theme_drilldown,
)
from koe.taggers.lookup import tags_frame

from .report_data import EMAIL_TEXT, XSS_NAME, XSS_TEXT, context, survey


@pytest.fixture(scope="module")
def ctx() -> dict:
    return context()


@pytest.fixture(scope="module")
def page(ctx) -> str:
    return render_report(ctx)


def test_report_inlines_plotly_once_and_loads_nothing_from_outside(page):
    assert page.count("<script") == 5  # plotly.js, three figures, the table sorter
    assert page.count("* plotly.js (basic - minified) v") == 1  # the bundle's banner: inlined once
    assert page.count("Plotly.newPlot(") == 3
    assert external_references(page) == []
    # the page links only to the run folder's files
    assert 'href="routed/follow_up.csv"' in page and 'href="routed/support.xlsx"' in page
    assert 1_200_000 < len(page.encode()) < 2_000_000  # plotly.js basic (1.19 MB) is most of it


def test_bundled_plotly_matches_the_plotly_js_that_plotly_py_writes_for():
    banner = re.compile(r"plotly\.js (?:\(basic - minified\) )?v(\d+)\.(\d+)")
    bundled = banner.search(plotly_js()[:300]).groups()
    assert bundled == ("4", "1")
    assert banner.search(get_plotlyjs()[:300]).group(1) == bundled[0]  # same major: same schema


def test_charts_use_only_traces_in_the_basic_bundle(ctx):
    types = set()
    for fig in (ctx["driver_chart"], ctx["trend_chart"], ctx["segment_chart"]):
        call = str(fig).split("Plotly.newPlot(", 1)[1]
        traces, _ = json.JSONDecoder().raw_decode(call[call.index("[") :])  # (div id, data, ...)
        types |= {trace["type"] for trace in traces}
    assert types == {"scatter"}  # the basic bundle has scatter, bar and pie only


def test_external_references_are_found():
    assert external_references('<script src="https://cdn.plot.ly/plotly.js"></script>')
    assert external_references('<link rel="stylesheet" href="//fonts.example/x.css">')
    assert external_references('<img src="logo.png">')
    assert external_references('<a href="https://example.com">x</a>')
    assert external_references('<div style="background: url(x.png)">') != []
    assert external_references('<a href="routed/x.csv">x</a><a href="#top">t</a>') == []
    assert external_references('<script>var u = "<img src=https://x>";</script>') == []


def test_report_has_every_section(page):
    for marker in ['id="fig-trend"', 'id="fig-drivers"', 'id="fig-segments"', 'id="driver-table"',
                   'class="sortable"', "<details", "<mark>", "早期警戒",
                   "pricing negative: 17 mentions in week of 2026-10-26",
                   "koe themes accept cluster_01 --as THEME_ID --department DEPARTMENT",
                   "ログイン・エラー", "二段階認証のエラーが出る", "follow_up", "thank_you",
                   "invalid_score"]:  # fmt: skip
        assert marker in page, marker
    # the Japanese font stack reaches the CSS unescaped
    assert f"font-family: {FONT_STACK};" in page and '"Noto Sans CJK JP"' in FONT_STACK
    for family in ("Hiragino", "Yu Gothic", "Meiryo"):
        assert family in FONT_STACK


def test_driver_table_rows_carry_sortable_numbers(page, ctx):
    start = page.index('id="driver-table"')
    table = page[start : page.index("</table>", start)]
    impacts = [float(v) for v in re.findall(r'class="impact" data-v="([-0-9.e]+)"', table)]
    expected = [d["impact"] for d in ctx["drivers"] if d["shown"]]
    assert all(not d["small_n"] for d in ctx["drivers"] if d["shown"])
    assert impacts == pytest.approx(expected) and len(impacts) > 5


def test_small_n_driver_rows_are_behind_a_toggle(ctx):
    drivers = [dict(d, small_n=i >= 3, shown=i < 3) for i, d in enumerate(ctx["drivers"])]
    page = render_report({**ctx, "drivers": drivers})
    small = drivers[3:]
    assert small
    start = page.index('<details id="driver-small">')
    toggle = page[start : page.index("</details>", start)]
    assert f"{len(small)} more rows: fewer than" in toggle
    assert toggle.count("<tr><td>") == len(small)
    main = page[page.index('id="driver-table"') : start]
    assert "(small n)" not in main and main.count("<tr><td>") == 3


def test_the_driver_table_shows_significant_or_top_rows_at_most_30():
    from koe.report import MAX_SHOWN_DRIVERS, _with_shown

    rows = pd.DataFrame({"impact": [float(i) for i in range(60)], "small_n": [i % 2 == 0
                         for i in range(60)], "significant": [i < 10 for i in range(60)]})  # fmt: skip
    shown = _with_shown(rows)
    assert not (shown["shown"] & shown["small_n"]).any()
    # the 20 largest |impact| among the rows with enough mentions, plus the significant ones
    expected = set(range(59, 19, -2)) | {1, 3, 5, 7, 9}
    assert set(shown.index[shown["shown"]]) == expected and len(expected) <= MAX_SHOWN_DRIVERS


def test_user_text_is_escaped_everywhere(page):
    assert "<script>alert" not in page and XSS_NAME not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # the theme name, escaped in HTML
    # in plotly's JSON too: HTML-escaped for plotly's label parser
    figure = page[page.index('id="fig-drivers"') :]
    figure = figure[: figure.index("</script>")]
    assert '"&lt;img src=x onerror=alert(1)&gt;"' in figure and "<img" not in figure
    assert "taro@example.co.jp" not in page  # the e-mail in a comment is masked
    assert "[email]" in page


def test_highlight_marks_escapes_and_masks():
    text = "<b>返信</b>が遅い。mail a@b.jp"
    html = str(highlight(text, [(3, 5), (4, 6)]))
    assert html == "&lt;b&gt;<mark>返信&lt;</mark>/b&gt;が遅い。mail [email]"
    assert str(highlight("abc", [])) == "abc"
    assert str(highlight("a@b.jp", [], mask_pii=False)) == "a@b.jp"


def test_drilldown_shows_representative_comments_with_their_evidence():
    comments, tags = survey()
    drivers = compute_drivers(comments, tags, n_boot=0, min_mentions=5)
    themes = theme_drilldown(comments, tags, drivers)
    by_theme = {t["theme"]: t for t in themes}
    speed = by_theme["support_response_speed"]["sections"][0]
    assert speed["polarity"] == "negative" and len(speed["examples"]) == 3
    # detractors first for a complaint; each example marks the evidence
    assert all(e["nps_class"] == "detractor" for e in speed["examples"])
    assert all("<mark>返信</mark>" in str(e["html"]) for e in speed["examples"])
    shown = " ".join(str(e["html"]) for t in themes for s in t["sections"] for e in s["examples"])
    assert "<script>" not in shown and "taro@" not in shown
    assert XSS_TEXT not in shown and EMAIL_TEXT not in shown


def test_report_renders_without_dates_themes_or_emergent_themes():
    comments, _ = survey(n=40, spike=0)
    no_tags = tags_frame([])
    ctx = context(
        comments=comments.assign(date=pd.NaT),
        tags=no_tags,
        drivers=pd.DataFrame(columns=DRIVER_COLUMNS),
        emergent=pd.DataFrame(columns=["cluster_id", "representatives"]),
    )
    page = render_report(ctx)
    assert "No dates in the input" in page and "No emergent themes" in page
    assert "No lookup theme was mentioned" in page
    assert "No theme has enough mentions for the chart" in page
    assert external_references(page) == []


def test_driver_chart_labels_the_top_drivers_on_a_readable_scale(ctx):
    from koe.charts import driver_figure

    html = str(driver_figure(pd.DataFrame(ctx["drivers"]), label_top=4))
    assert '"type":"log"' in html.replace(" ", "")  # volumes on a log axis
    assert '"cliponaxis":false' in html.replace(" ", "")  # labels are not cut at the edge
    shown = re.findall(r'"text":\[([^\]]*)\]', html)
    labels = [t for part in shown for t in re.findall(r'"([^"]*)"', part) if t]
    assert 0 < len(labels) <= 4  # only the top drivers by |impact| carry a label
    assert '"bottom center"' in html  # neighbouring labels alternate above and below
