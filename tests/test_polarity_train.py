"""`koe polarity train`: distant labels from scores with the noise koe can see dropped, given
labels, and a real fit on real survey answers (tests/gold/fukui_visit, CC BY 4.0)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from koe.cli import app
from koe.config import DEFAULT_LOOKUP_LISTS
from koe.models.polarity_model import load_polarity_model
from koe.polarity_training import training_set
from koe.taggers.polarity import PolarityLexicon

runner = CliRunner()
TUNE = Path(__file__).parent / "gold" / "fukui_visit" / "tune_comments.csv"
LEXICON = PolarityLexicon.for_folder(DEFAULT_LOOKUP_LISTS)


def test_distant_labels_come_from_the_score_and_drop_what_contradicts_them():
    data = training_set(
        ["画面が見やすい。", "サポートは良い。", "もっと早くしてほしい。", "普通です。",
         "特になし", "請求書が分かりにくい。", "請求書が分かりにくい。"],
        LEXICON, scores=[10, 2, 3, 8, 1, 2, 10],
    )  # fmt: skip
    assert dict(data.dropped) == {"contradicts_lexicon": 2, "request": 1, "passive": 1,
                                  "non_answer": 1}  # fmt: skip
    assert list(zip(data.texts, data.labels, strict=True)) == [("画面が見やすい。", "positive"),
                                                                ("請求書が分かりにくい。", "negative")]  # fmt: skip


def test_given_labels_are_used_whole_and_conflicts_dropped():
    data = training_set(["良い", "悪い", "良い", "微妙"], LEXICON,
                        labels=["ポジティブ", "negative", "negative", "maybe"])  # fmt: skip
    assert data.texts == ["悪い"] and data.labels == ["negative"]
    assert dict(data.dropped) == {"conflicting_labels": 1, "unknown_label": 1}


def test_a_team_fits_its_own_model_on_real_answers_and_uses_it(tmp_path):
    out = tmp_path / "model"
    result = runner.invoke(app, ["polarity", "train", "--input", str(TUNE), "--score-col", "nps",
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    info = json.loads((out / "meta.json").read_text(encoding="utf-8"))["info"]
    # a detractor's 「…充実している一方お店が少ない」 no longer reads as praise (scarcity), and
    # four promoters' また来たい / 勧めたい are praise, not requests (intents)
    assert info["sentences"] == {"negative": 28, "positive": 105}
    assert info["dropped"] == {"contradicts_lexicon": 17, "non_answer": 2, "passive": 78,
                               "request": 8}  # fmt: skip
    assert 0.5 < info["cv_macro_f1_on_these_labels"] < 1
    model = load_polarity_model(out)
    assert model.classes == ("negative", "positive") and model.coef.shape == (2, 512)
    again = tmp_path / "again"
    runner.invoke(app, ["polarity", "train", "--input", str(TUNE), "--score-col", "nps",
                        "--out", str(again)])  # fmt: skip
    np.testing.assert_array_equal(load_polarity_model(again).coef, model.coef)  # deterministic
    scored = tmp_path / "sentiment.csv"
    done = runner.invoke(app, ["sentiment", "--input", str(TUNE), "--out", str(scored),
                               "--polarity-model", str(out)])  # fmt: skip
    assert done.exit_code == 0, done.output
    sentiment = pd.read_csv(scored)
    assert len(sentiment) == 200 and (sentiment["source"] == "model").sum() > 10


def test_too_few_sentences_or_a_missing_column_is_one_line(tmp_path):
    small = tmp_path / "small.csv"
    pd.DataFrame({"text": ["良い", "悪い"], "score": [10, 0]}).to_csv(small, index=False)
    result = runner.invoke(app, ["polarity", "train", "--input", str(small), "--out",
                                 str(tmp_path / "m")])  # fmt: skip
    assert result.exit_code == 2 and "need at least 20 sentences" in result.output
    result = runner.invoke(app, ["polarity", "train", "--input", str(small), "--score-col", "nps",
                                 "--out", str(tmp_path / "m")])  # fmt: skip
    assert result.exit_code == 2 and "missing column(s) ['nps']" in result.output
    assert not (tmp_path / "m").exists()


def test_review_decisions_label_their_sentences_and_win_over_distant_labels(tmp_path):
    from koe.store import RunStore

    texts = pd.read_csv(TUNE, dtype=str, keep_default_na=False)
    data = training_set(texts["text"].tolist(), LEXICON, scores=texts["nps"].astype(float).tolist())
    flipped = data.texts[data.labels.index("positive")]
    store = RunStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    store.add_decision("polarity", comment_id="x1", sentence_idx=0, sentence=flipped,
                       theme="food", polarity="negative")  # fmt: skip
    store.add_decision("polarity", comment_id="x2", sentence_idx=0, sentence="駐車場が狭い。",
                       theme="parking", polarity="negative")  # fmt: skip
    store.add_decision("reject", comment_id="x3", sentence_idx=0, sentence="良い。", theme="food")
    store.close()
    out = tmp_path / "model"
    result = runner.invoke(app, ["polarity", "train", "--input", str(TUNE), "--score-col", "nps",
                                 "--out", str(out), "--reviews", str(tmp_path / "state.sqlite")])
    assert result.exit_code == 0, result.output
    assert "2 from review decisions" in result.output
    info = json.loads((out / "meta.json").read_text(encoding="utf-8"))["info"]
    assert info["review_labels"] == 2
    assert info["sentences"] == {"negative": 30, "positive": 104}  # one flipped, one added
    missing = runner.invoke(app, ["polarity", "train", "--input", str(TUNE), "--score-col", "nps",
                                  "--out", str(out), "--reviews", str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 2 and "no such database file" in missing.output
