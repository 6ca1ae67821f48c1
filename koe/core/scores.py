"""Score kinds beyond the 0-10 recommend score: CSAT, CES, yes/no and labelled scales.

A :class:`ScoreScale` says how one score column reads (its range, its labels) and what its metric
is. Every metric is the mean of a per-respondent value in the metric's own unit, so one set of
statistics (koe.analysis.metrics) serves them all:

========  =================  ==============================================  ==================
kind      default range      per-respondent value (metric = its mean)        high / low class
========  =================  ==============================================  ==================
nps       0-10               100 if 9-10, -100 if 0-6, else 0 (NPS points)   9-10 / 0-6
csat      1-5                100 if in the top ``top_box`` values (top-2-box  top box / bottom
                             share, %)                                       ``top_box`` values
ces       1-7                the score (CES mean; higher = easier)           >= easy_at / <= low+2
binary    0-1                100 if yes (share of yes, %)                    yes / no
ordinal   from ``labels``    100 if the top label (top-box share, %)         top / bottom value
========  =================  ==============================================  ==================

A cell is read as a number, else as one of ``labels`` (matched after NFKC, case-folded, spaces
stripped; e.g. 非常に満足 -> 5, はい -> 1). An empty cell is a question left unanswered (NaN, not
quarantined); a number outside the range is ``score_out_of_range``; anything else is
``invalid_score``.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

SCORE_KINDS = ("nps", "csat", "ces", "binary", "ordinal")
DEFAULT_RANGES = {"nps": (0.0, 10.0), "csat": (1.0, 5.0), "ces": (1.0, 7.0), "binary": (0.0, 1.0)}
BINARY_LABELS = {"はい": 1, "いいえ": 0, "yes": 1, "no": 0, "y": 1, "n": 0, "true": 1,
                 "false": 0, "あり": 1, "なし": 0}  # fmt: skip
UNITS = {"nps": "NPS points", "csat": "top-box share, %", "ces": "mean score",
         "binary": "share of yes, %", "ordinal": "top-box share, %"}  # fmt: skip


def label_key(text: str) -> str:
    """How a label is matched: NFKC, case-folded, without spaces (U+3000 included)."""
    return "".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


@dataclass(frozen=True)
class ScoreScale:
    """One score column: its metric ``name`` (a column of the CommentFrame), input ``column``,
    ``kind`` (SCORE_KINDS), range ``low``..``high``, ``labels`` (text -> value)."""

    name: str
    column: str
    kind: str
    low: float
    high: float
    labels: Mapping[str, float] = field(default_factory=dict)
    top_box: int = 2
    easy_at: float | None = None

    @classmethod
    def of(cls, name: str, column: str, kind: str, *, low: float | None = None,
           high: float | None = None, labels: Mapping[str, float] | None = None,
           top_box: int = 2, easy_at: float | None = None) -> ScoreScale:  # fmt: skip
        """A scale with the kind's defaults: range, yes/no labels for binary; an ordinal
        scale's range is its labels' values."""
        if kind not in SCORE_KINDS:
            raise ValueError(f"score {name}: kind {kind!r} is not one of {SCORE_KINDS}")
        given = {label_key(k): float(v) for k, v in (labels or {}).items()}
        if kind == "binary":
            given = {**{k: float(v) for k, v in BINARY_LABELS.items()}, **given}
        if kind == "ordinal" and not given:
            raise ValueError(f"score {name}: an ordinal score needs labels (text: value)")
        default = DEFAULT_RANGES.get(kind)
        if default is None:  # ordinal
            default = (min(given.values()), max(given.values()))
        lo = default[0] if low is None else float(low)
        hi = default[1] if high is None else float(high)
        if not lo < hi:
            raise ValueError(f"score {name}: range {lo:g}-{hi:g} is empty")
        outside = [k for k, v in given.items() if not lo <= v <= hi]
        if outside:
            raise ValueError(f"score {name}: label(s) {outside} map outside {lo:g}-{hi:g}")
        return cls(name, column, kind, lo, hi, given, top_box, easy_at)

    @property
    def unit(self) -> str:
        return UNITS[self.kind]

    def parse(self, raw: str) -> tuple[float, str, str]:
        """(value, "", "") — NaN for an empty cell — or (NaN, reason, detail)."""
        text = unicodedata.normalize("NFKC", raw).strip()
        if not text:
            return math.nan, "", ""
        key = label_key(text)
        if key in self.labels:
            return self.labels[key], "", ""
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        shown = repr(raw if len(raw) <= 40 else raw[:40] + "…")
        if not math.isfinite(value):
            known = ", ".join(sorted(self.labels)) or "none"
            return math.nan, "invalid_score", (
                f"{self.name} {shown} is neither a number nor a label of scores.{self.name} "
                f"(labels: {known})")  # fmt: skip
        if not self.low <= value <= self.high:
            return math.nan, "score_out_of_range", (
                f"{self.name} {value:g} is outside {self.low:g}-{self.high:g}")  # fmt: skip
        return value, "", ""

    def classes(self, values: np.ndarray) -> np.ndarray:
        """"high" | "mid" | "low" per value ("" for NaN); see the module's table."""
        v = np.asarray(values, dtype=np.float64)
        if self.kind == "nps":
            high, low = v >= 9, v <= 6
        elif self.kind == "ces":
            easy = self.high - 2 if self.easy_at is None else self.easy_at
            high, low = v >= easy, v <= self.low + 2
        elif self.kind == "binary":
            high, low = v >= 0.5, v < 0.5
        elif self.kind == "ordinal":
            high, low = v >= self.high, v <= self.low
        else:  # csat: top and bottom ``top_box`` values
            high, low = v > self.high - self.top_box, v < self.low + self.top_box
        out = np.where(high, "high", np.where(low, "low", "mid")).astype(object)
        out[np.isnan(v)] = ""
        return out

    def metric_values(self, values: np.ndarray) -> np.ndarray:
        """Each respondent's value in the metric's unit (NaN stays NaN); the metric is the mean."""
        v = np.asarray(values, dtype=np.float64)
        if self.kind == "ces":
            return v.copy()
        classes = self.classes(v)
        out = np.where(classes == "high", 100.0, 0.0)
        if self.kind == "nps":
            out = out - np.where(classes == "low", 100.0, 0.0)
        out[np.isnan(v)] = math.nan
        return out


NPS_SCALE = ScoreScale.of("nps", "score", "nps")
