"""Survey data for the score-kind tests: a planted simulation and the sample survey with CSAT,
CES, continuation and a trouble × contacted × response journey added (seeded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from koe.config import SAMPLE_INPUT

CSAT_LABELS = {"非常に満足": 5, "満足": 4, "どちらでもない": 3, "不満": 2, "非常に不満": 1}


def planted_survey(n: int = 3000, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(comments, tags, truth): theme "wait" lowers CSAT top-2-box from 65 % to 30 %; theme
    "price" lowers continuation from 80 % to 50 %; "other" changes nothing. Each theme is
    mentioned by a fifth of the respondents, independently."""
    rng = np.random.default_rng(seed)
    ids = [f"R{i:05d}" for i in range(n)]
    mentions = {t: rng.random(n) < 0.2 for t in ("wait", "price", "other")}
    top2 = np.where(mentions["wait"], 0.30, 0.65)
    csat = np.where(rng.random(n) < top2, rng.choice([4, 5], n), rng.choice([1, 2, 3], n))
    cont = (rng.random(n) < np.where(mentions["price"], 0.50, 0.80)).astype(float)
    comments = pd.DataFrame({"id": ids, "score": rng.integers(0, 11, n), "csat": csat * 1.0,
                             "continuation": cont})  # fmt: skip
    rows = [{"id": ids[i], "sentence_idx": 0, "theme": t, "theme_name": t, "department": "cx",
             "polarity": "negative", "source": "lookup"}
            for t, m in mentions.items() for i in np.flatnonzero(m)]  # fmt: skip
    truth = {  # expected impact: share x (mentioning - not mentioning), in points
        ("csat", "wait"): mentions["wait"].mean() * (30 - 65),
        ("continuation", "price"): mentions["price"].mean() * (50 - 80),
    }
    return comments, pd.DataFrame(rows), truth


def journey_survey(path: Path, seed: int = 3) -> Path:
    """The sample survey plus csat (labels and numbers), ces, continuation (はい/いいえ) and
    trouble / contacted / response; detractors lean to 期待以下 responses. Two more rows carry
    a CSAT of 6 and a CSAT label outside the mapping."""
    survey = pd.read_csv(SAMPLE_INPUT, dtype=str, keep_default_na=False)
    rng = np.random.default_rng(seed)
    n = len(survey)
    score = pd.to_numeric(survey["score"], errors="coerce").fillna(5).clip(0, 10).to_numpy()
    trouble = rng.random(n) < 0.5
    contacted = trouble & (rng.random(n) < 0.7)
    response = np.where(~contacted, "", np.where(score <= 6, rng.choice(
        ["期待以上", "期待通り", "期待以下", "期待以下"], n), rng.choice(
        ["期待以上", "期待以上", "期待通り", "期待以下"], n)))  # fmt: skip
    csat = np.clip(np.round(score / 2.5 + rng.normal(0, 0.7, n)), 1, 5).astype(int)
    by_value = {v: k for k, v in CSAT_LABELS.items()}
    survey["満足度"] = [by_value[c] if i % 3 == 0 else str(c) for i, c in enumerate(csat)]
    survey["ces"] = np.clip(np.round(score / 1.7 + rng.normal(0, 1, n)), 1, 7).astype(int)
    survey["継続意向"] = np.where(rng.random(n) < np.where(score <= 6, 0.45, 0.9), "はい", "いいえ")
    survey["trouble"] = np.where(trouble, "あり", "なし")
    survey["contacted"] = np.where(contacted, "あり", "なし")
    survey["response"] = response
    bad = survey.iloc[[0, 1]].copy()
    bad["id"] = ["BAD1", "BAD2"]
    bad["満足度"] = ["6", "大満足"]
    pd.concat([survey, bad], ignore_index=True).to_csv(path, index=False)
    return path


JOURNEY_CONFIG = """\
segments: [plan, company_size, trouble, contacted, response]
scores:
  - name: csat
    column: 満足度
    kind: csat
    labels: {非常に満足: 5, 満足: 4, どちらでもない: 3, 不満: 2, 非常に不満: 1}
  - name: ces
    column: ces
    kind: ces
  - name: continuation
    column: 継続意向
    kind: binary
journey:
  columns: [trouble, contacted, response]
  compare:
    - name: trouble + above expectation vs no trouble
      a: {trouble: あり, response: 期待以上}
      b: {trouble: なし}
    - name: below vs above expectation
      a: {response: 期待以下}
      b: {response: 期待以上}
"""
