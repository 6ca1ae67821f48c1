"""koe eval: hand-computed precision, recall, F1 and polarity accuracy."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from koe.cli import app
from koe.evaluate import evaluate_tags


def frames():
    gold = pd.DataFrame(
        [("1", "speed", "negative"), ("1", "price", "negative"), ("2", "speed", "positive")],
        columns=["id", "theme", "polarity"],
    )
    pred = pd.DataFrame(
        [("1", "speed", "negative", "lookup"), ("2", "speed", "negative", "lookup"),
         ("3", "price", "neutral", "lookup"), ("3", "cluster_01", "neutral", "cluster")],
        columns=["id", "theme", "polarity", "source"],
    )  # fmt: skip
    return gold, pred


def test_micro_macro_and_polarity_by_hand():
    gold, pred = frames()
    result = evaluate_tags(gold, pred)
    # pairs: gold {1 speed, 1 price, 2 speed}; pred {1 speed, 2 speed, 3 price} (cluster ignored)
    # tp = {1 speed, 2 speed} -> P = 2/3, R = 2/3, F1 = 2/3
    assert result.micro_precision == pytest.approx(2 / 3)
    assert result.micro_recall == pytest.approx(2 / 3)
    assert result.micro_f1 == pytest.approx(2 / 3)
    # speed: P 1, R 1, F1 1; price: P 0 (0/1), R 0 (0/1), F1 0 -> macro 0.5
    assert result.per_theme.set_index("theme")["f1"].to_dict() == {"price": 0.0, "speed": 1.0}
    assert result.macro_f1 == pytest.approx(0.5)
    # polarity on tp pairs: 1 speed agrees, 2 speed does not -> 0.5
    assert result.polarity_accuracy == pytest.approx(0.5)
    assert result.comments == 3


def test_restricting_ids_ignores_other_predictions():
    gold, pred = frames()
    result = evaluate_tags(gold, pred, ids=["1", "2"])
    assert result.micro_precision == 1.0 and result.micro_recall == pytest.approx(2 / 3)


def test_cli_eval_prints_the_table(tmp_path):
    gold, pred = frames()
    gold.to_csv(tmp_path / "gold.csv", index=False)
    pred.to_csv(tmp_path / "tags.csv", index=False)
    result = CliRunner().invoke(
        app, ["eval", "--gold", str(tmp_path / "gold.csv"), "--pred", str(tmp_path / "tags.csv")]
    )
    assert result.exit_code == 0, result.output
    assert "micro P 0.667  R 0.667  F1 0.667  macro F1 0.500" in result.output
    assert "polarity accuracy 0.500 on 2 correctly tagged themes" in result.output
