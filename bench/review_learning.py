"""The learning curve of review decisions: frozen-set micro-F1 before and after an analyst's
corrections made on *other* comments (koe.taggers.semantic.Corrections).

    python -m bench.review_learning [--sets fukui_visit,fukui_requests] [--steps 0,10,25,50]

The corpus of a set is its frozen test comments plus its tune comments. The simulated analyst
reads tune comments in a seeded order and, for each one-sentence comment, corrects koe's tags to
the tune gold labels (tests/gold/<set>/tune_gold.csv, labelled blind to koe): ``reject`` each
wrong theme, ``add`` each missed one, ``polarity`` where the theme is right and its polarity is
not; each decision counts as one correction. The decisions are made through the workbench
(``koe review``'s app, its ``POST /decide`` with the CSRF token) into a run-state database, and
the next tagging reads them back from there, as ``koe run`` does. Only the test comments are
scored; no test label is read before the figure is printed.
Data: 出典: 福井県観光連盟「福井県観光データ分析システム FTAS」, CC BY 4.0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.semantic_quality import load_set, prepare  # noqa: E402
from koe.evaluate import evaluate_tags  # noqa: E402
from koe.taggers.factory import build_tagger  # noqa: E402
from koe.taggers.semantic import Corrections, SemanticSettings, semantic_tags  # noqa: E402
from koe.taggers.sentences import split_sentences  # noqa: E402


def decisions_for(tags: pd.DataFrame, sentences: pd.DataFrame, gold: pd.DataFrame,
                  order: list[str], budget: int) -> pd.DataFrame:  # fmt: skip
    """Up to ``budget`` decisions on one-sentence tune comments, in ``order``."""
    rows = []
    one = sentences.groupby("id").filter(lambda g: len(g) == 1).set_index("id")["sentence"]
    for cid in order:
        if len(rows) >= budget or cid not in one.index:
            continue
        mine = tags[(tags["id"] == cid) & (tags["source"] != "cluster")]
        truth = gold[gold["id"] == cid]
        said = dict(zip(mine["theme"], mine["polarity"], strict=False))
        right = dict(zip(truth["theme"], truth["polarity"], strict=False))
        for theme in sorted(set(said) | set(right)):
            wrong_polarity = theme in right and right[theme] not in ("", said.get(theme))
            action = ("reject" if theme not in right else "add" if theme not in said
                      else "polarity" if wrong_polarity else None)  # fmt: skip
            if action is None or len(rows) >= budget:
                continue
            polarity = right.get(theme) or None
            rows.append({"comment_id": cid, "action": action, "sentence": one[cid],
                         "theme": theme, "polarity": polarity if action != "reject" else None})
    return pd.DataFrame(rows, columns=["comment_id", "action", "sentence", "theme", "polarity"])


def through_app(corpus: pd.DataFrame, tags: pd.DataFrame, sentences: pd.DataFrame,
                decided: pd.DataFrame, lists: Path) -> pd.DataFrame:  # fmt: skip
    """Make ``decided`` through the workbench app; returns the store's decisions."""
    import re
    import tempfile

    from fastapi.testclient import TestClient

    from koe.store import RunStore
    from koe.workbench import Workbench, create_app
    from koe.workbench.data import MENTION_COLUMNS, RunView

    mentions = tags.merge(sentences[["id", "sentence_idx", "sentence"]],
                          on=["id", "sentence_idx"])  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        view = RunView(Path(tmp), corpus.assign(score=pd.NA, nps_class="", date=pd.NaT),
                       mentions[list(MENTION_COLUMNS)], pd.DataFrame(
                           columns=["cluster_id", "label"]), pd.DataFrame(), ())  # fmt: skip
        store = RunStore(f"sqlite:///{tmp}/state.sqlite")
        client = TestClient(create_app(Workbench(view, lists, store, Path(tmp) / "gold.csv")))
        page = client.get(f"/theme/{mentions['theme'].iloc[0]}").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
        for d in decided.itertuples(index=False):
            form = {"csrf": csrf, "action": d.action, "comment_id": d.comment_id,
                    "sentence_idx": "0", "theme": d.theme, "polarity": d.polarity or ""}
            response = client.post("/decide", data=form, follow_redirects=False)
            assert response.status_code == 303, response.text
        made = store.decisions()
        store.close()
    assert made["sentence"].tolist() == decided["sentence"].tolist()
    return made


def curve(name: str, steps: list[int], seed: int, reach: float = 0.80,
          validate: bool = False) -> list[dict]:  # fmt: skip
    """Frozen-set figures after each number of corrections in ``steps``. ``validate``: the
    corrections come from one seeded half of the tune comments and the other half is scored
    (for choosing settings without the frozen set)."""
    test, test_gold, lists = load_set(name, "test")
    tune, tune_gold, _ = load_set(name, "tune")
    corpus = prepare(pd.concat([test[["id", "text"]], tune[["id", "text"]]]))
    tagger = build_tagger(lists, "koe-default")
    sentences = split_sentences(corpus)
    lookup = tagger.tag(sentences)
    from koe.models.embedding_cache import embed_with_cache

    vectors, _ = embed_with_cache(list(sentences["sentence"]), "koe-default", None)

    def embed(texts):
        return embed_with_cache(list(texts), "koe-default", None)[0]

    settings = SemanticSettings(review_reach=reach)
    base, _ = semantic_tags(tagger, sentences, lookup, vectors, embed, settings)
    order = list(np.random.default_rng(seed).permutation(sorted(set(tune["id"]))))
    scored, gold = list(test["id"]), test_gold
    if validate:
        order, scored = order[::2], order[1::2]
        gold = tune_gold
    out = []
    for budget in steps:
        decided = decisions_for(base, sentences, tune_gold, order, budget)
        if len(decided):
            decided = through_app(corpus, base, sentences, decided, lists)
        corrections = Corrections.from_decisions(decided) if len(decided) else None
        tags, _ = semantic_tags(tagger, sentences, lookup, vectors, embed, settings, corrections)
        ev = evaluate_tags(gold, tags.assign(source="lookup"), scored)
        out.append({"set": name, "corrections": len(decided), "precision": ev.micro_precision,
                    "recall": ev.micro_recall, "micro_f1": ev.micro_f1,
                    "polarity": ev.polarity_accuracy})  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default="fukui_visit,fukui_requests")
    parser.add_argument("--steps", default="0,10,25,50")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--review-reach", type=float, default=0.80)
    parser.add_argument("--validate", action="store_true",
                        help="score half of the tune comments, correct the other half")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/review_learning.md")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    rows = [r for name in args.sets.split(",")
            for r in curve(name, steps, args.seed, args.review_reach, args.validate)]  # fmt: skip
    if args.validate:  # not the frozen set: print, never write the results file
        for r in rows:
            print(r)
        return
    lines = ["# Review decisions: frozen-set quality against corrections on other comments", "",
             f"`python -m bench.review_learning` (seed {args.seed}). Corrections are made on "
             "tune comments (their gold labels); only the frozen test comments are scored.", "",
             "| set | corrections | precision | recall | micro-F1 | polarity |",
             "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in rows:
        lines.append(f"| {r['set']} | {r['corrections']} | {r['precision']:.3f} | "
                     f"{r['recall']:.3f} | {r['micro_f1']:.3f} | "
                     f"{r['polarity']:.3f} |")  # fmt: skip
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
