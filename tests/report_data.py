"""A synthetic survey with every part of the report filled, for report and browser tests.

252 comments over 8 weeks in two plans; themes with clear drivers (slow replies drag the NPS
down, a polite support lifts it); a theme name and a comment that try to inject HTML; a comment
with an e-mail address. The tables come from the real analysis functions (the slow regression
view is left empty), so the report sees what a run would give it.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from koe.analysis.drivers import compute_drivers
from koe.analysis.segments import segment_table
from koe.analysis.trends import early_warnings, theme_trends
from koe.core.frames import nps_class
from koe.report import report_context
from koe.taggers.lookup import tags_frame

XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_TEXT = '</script><script>alert("x")</script>返信が遅い'
EMAIL_TEXT = "返信が遅い。連絡は taro@example.co.jp まで"

# (text, score, [(theme, name, department, polarity, evidence)])
PATTERNS = [
    ("返信が遅い。何度も催促した。", 2,
     [("support_response_speed", "返信・対応の速さ", "support", "negative", "返信")]),
    ("サポートの方がとても丁寧でした。", 10,
     [("support_attitude", "対応の丁寧さ", "support", "positive", "丁寧")]),
    ("料金が高い。", 5, [("pricing", "価格・料金", "sales", "negative", "料金")]),
    ("画面が見やすくて使いやすい。", 9, [("ui", "画面・UI", "product", "positive", "画面")]),
    ("レポート機能がほしい。", 7, [("reports", XSS_NAME, "product", "neutral", "レポート")]),
    ("特に問題ありません。", 8, []),
]  # fmt: skip


def survey(n: int = 240, spike: int = 12, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(CommentFrame, TagFrame) of a synthetic survey."""
    rng = np.random.default_rng(seed)
    rows, tags = [], []
    dates = pd.date_range("2026-09-07", periods=56, freq="D")
    for i in range(n + spike):
        # the last `spike` comments: price complaints pile up in the last week (an early warning)
        text, score, themes = PATTERNS[2 if i >= n else i % len(PATTERNS)]
        score = int(np.clip(score + rng.integers(-1, 2), 0, 10))
        if i == 0:
            text = XSS_TEXT
        elif i == 6:
            text = EMAIL_TEXT
        cid = f"R{i:04d}"
        rows.append(
            {"id": cid, "text": text, "score": score, "nps_class": nps_class(score),
             "date": dates[-1] if i >= n else dates[7 * (i * 8 // n) + i % 7], "customer_id": f"C{i % 200:03d}",
             "source_row": i + 1, "plan": "Enterprise" if i % 3 == 0 else "Free",
             "non_answer": False}
        )  # fmt: skip
        for theme, name, dept, pol, evidence in themes:
            start = text.find(evidence)
            tags.append(
                {"id": cid, "sentence_idx": 0, "theme": theme, "theme_name": name, "parent": "",
                 "department": dept, "polarity": pol, "is_request": theme == "reports",
                 "source": "lookup", "evidence": evidence, "start": start,
                 "end": start + len(evidence)}
            )  # fmt: skip
    comments = pd.DataFrame(rows)
    comments["score"] = comments["score"].astype("Int64")
    comments["date"] = pd.to_datetime(comments["date"])
    return comments, tags_frame(tags)


EMERGENT = pd.DataFrame(
    {
        "cluster_id": ["cluster_01"],
        "label": ["ログイン・エラー"],
        "keywords": ["ログイン, エラー, 二段階認証"],
        "size": [6],
        "comments": [6],
        "share": [0.025],
        "promoters_share": [0.0],
        "detractors_share": [0.8],
        "nps": [-80.0],
        "representatives": ["ログインできない | 二段階認証のエラーが出る"],
    }
)


def context(**overrides) -> dict:
    """A full report context for the synthetic survey."""
    comments, tags = survey()
    trends = theme_trends(comments, tags, period="W", trailing=4, z=2.0, min_count=5)
    analysis = SimpleNamespace(
        drivers=compute_drivers(comments, tags, n_boot=50, seed=0, min_mentions=5),
        segments=segment_table(comments, ["plan"], min_n=20),
        warnings=early_warnings(trends),
        regression=pd.DataFrame(columns=["target"]),
        subscores=pd.DataFrame(),
    )
    quarantine = pd.DataFrame({"reason": ["invalid_score"], "id": ["X1"]})
    counts = {
        "input_rows": len(comments) + 1, "accepted": len(comments), "quarantined": 1,
        "tagged_with_theme": int(comments["id"].isin(set(tags["id"])).sum()),
    }  # fmt: skip
    kwargs = dict(
        run_id="20261101T000000Z", input_path="survey.csv", comments=comments,
        drivers=analysis.drivers, emergent=EMERGENT, routed_counts={"support": 80, "sales": 40},
        quarantine=quarantine, counts=counts, messages=[], analysis=analysis, min_mentions=5,
        min_n=20, tags=tags, close_the_loop={"follow_up": 90, "thank_you": 200}, mask_pii=True,
    )  # fmt: skip
    kwargs.update(overrides)
    return report_context(**kwargs)
