"""Train koe's default sentence polarity model (models/default_polarity) from the Fukui survey.

Labels come from the question each answer replies to, not from anyone reading them:

* positive: おすすめの点 (recommend_point), and reasons given with satisfaction 5;
* negative: 不便だった点 (inconvenience_detail), and reasons given with satisfaction 1–2;
* neutral: 施設・福井県への要望 (facility_request, fukui_request) — wishes, not complaints.

Answers of 6–200 characters; ``--per-class`` of each, sampled with ``--seed``. Embeddings are
koe's default embedder; the classifier is ``models.polarity_model.train_polarity_model``.
Deterministic: the same data, seed and embedder give the same weights.

Data: 出典: 福井県観光連盟「福井県観光データ分析システム FTAS」 (CC BY 4.0), read from
../shared/data/fukui; the trained weights are derived from it and carry that attribution.

Run: ``python bench/train_polarity.py [--per-class 5000] [--seed 0]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from koe.models.embeddings import DEFAULT_MODEL, embed_texts, load_embedder  # noqa: E402
from koe.models.polarity_model import DEFAULT_POLARITY_DIR, train_polarity_model  # noqa: E402

FUKUI = REPO.parent / "shared" / "data" / "fukui" / "fukui_survey_comments_2022-04_2025-06.csv"
ATTRIBUTION = "出典: 福井県観光連盟「福井県観光データ分析システム FTAS」 (CC BY 4.0)"


def labelled_answers(path: Path, per_class: int, seed: int) -> pd.DataFrame:
    """text, label: ``per_class`` answers of each class (see the module docstring)."""
    d = pd.read_csv(path)
    d = d[d["text"].astype(str).str.len().between(6, 200)]
    reason = d["question_key"].str.endswith("satisfaction_reason")
    groups = {
        "positive": d[
            (d["question_key"] == "recommend_point") | (reason & (d["satisfaction"] == 5))
        ],
        "negative": d[
            (d["question_key"] == "inconvenience_detail") | (reason & (d["satisfaction"] <= 2))
        ],
        "neutral": d[d["question_key"].isin(["facility_request", "fukui_request"])],
    }
    parts = [
        g.sample(min(per_class, len(g)), random_state=seed).assign(label=label)
        for label, g in groups.items()
    ]
    return pd.concat(parts, ignore_index=True)[["text", "label"]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-class", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--c", type=float, default=0.3)
    ap.add_argument("--out", type=Path, default=DEFAULT_POLARITY_DIR)
    args = ap.parse_args()
    if not FUKUI.is_file():
        sys.exit(f"{FUKUI} not found: this script needs ../shared/data/fukui")
    data = labelled_answers(FUKUI, args.per_class, args.seed)
    t0 = time.perf_counter()
    vectors = embed_texts(data["text"].astype(str).tolist(), load_embedder(DEFAULT_MODEL))
    print(f"embedded {len(data)} answers in {time.perf_counter() - t0:.0f} s")

    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    labels = np.asarray(data["label"].tolist())
    folds = StratifiedKFold(5, shuffle=True, random_state=args.seed)
    cv = cross_val_score(LogisticRegression(C=args.c, max_iter=5000), vectors, labels, cv=folds)
    info = {
        "data": ATTRIBUTION,
        "labels": "question answered (see bench/train_polarity.py)",
        "per_class": int(args.per_class),
        "seed": int(args.seed),
        "c": args.c,
        "cv_accuracy_5fold": round(float(cv.mean()), 4),
    }
    model = train_polarity_model(vectors, labels, DEFAULT_MODEL, c=args.c, info=info)
    model.save(args.out)
    print(f"5-fold accuracy {cv.mean():.3f}; wrote {args.out}")


if __name__ == "__main__":
    main()
