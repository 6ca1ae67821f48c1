"""Score kinds beyond NPS (CSAT, CES, yes/no, labelled scales) and journey segments: parsing
and quarantine, drivers per metric, a planted simulation, journey cells and comparisons, and a
real `koe run` end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from koe.analysis.drivers import compute_drivers
from koe.analysis.journey import churn_risk, compare_cells, journey_table
from koe.analysis.metrics import METRIC_DRIVER_COLUMNS, metric_drivers
from koe.cli import app
from koe.config import ConfigError, load_config
from koe.core.scores import NPS_SCALE, ScoreScale

from .journey_data import JOURNEY_CONFIG, journey_survey, planted_survey

CSAT = ScoreScale.of("csat", "満足度", "csat", labels={"非常に満足": 5, "満足": 4})
CONTINUATION = ScoreScale.of("continuation", "継続", "binary")


def test_a_score_reads_numbers_and_labels_and_names_what_is_wrong():
    assert CSAT.parse("4") == (4.0, "", "")
    assert CSAT.parse(" 非常に満足 ") == (5.0, "", "")
    assert CSAT.parse("５") == (5.0, "", "")  # full-width digit
    value, reason, _ = CSAT.parse("")
    assert math.isnan(value) and reason == ""  # a question left unanswered
    assert CSAT.parse("6")[1:] == ("score_out_of_range", "csat 6 is outside 1-5")
    assert CSAT.parse("大満足")[1] == "invalid_score"
    assert "大満足" in CSAT.parse("大満足")[2] and "非常に満足" in CSAT.parse("大満足")[2]
    assert CONTINUATION.parse("はい")[0] == 1.0 and CONTINUATION.parse("No")[0] == 0.0
    with pytest.raises(ValueError, match="needs labels"):
        ScoreScale.of("intent", "x", "ordinal")


def test_each_kind_has_its_metric_in_its_own_unit():
    v = np.array([1, 2, 3, 4, 5, np.nan])
    assert CSAT.metric_values(v)[:5].tolist() == [0, 0, 0, 100, 100]
    assert math.isnan(CSAT.metric_values(v)[5])
    assert CSAT.classes(v).tolist() == ["low", "low", "mid", "high", "high", ""]
    assert NPS_SCALE.metric_values(np.array([0, 6, 7, 8, 9, 10])).tolist() == [-100, -100, 0, 0,
                                                                               100, 100]  # fmt: skip
    ces = ScoreScale.of("ces", "ces", "ces")
    assert ces.metric_values(np.array([2.0, 6.0])).tolist() == [2.0, 6.0]
    assert ces.classes(np.array([3, 4, 5])).tolist() == ["low", "mid", "high"]
    intent = ScoreScale.of("intent", "x", "ordinal",
                           labels={"継続したい": 3, "どちらでもない": 2, "継続したくない": 1})  # fmt: skip
    values = np.array([intent.parse(t)[0] for t in ("継続したい", "どちらでもない", "継続したくない")])
    assert intent.metric_values(values).tolist() == [100, 0, 0]
    assert (intent.low, intent.high) == (1.0, 3.0)


def test_config_declares_scores_and_refuses_unknown_ones(tmp_path):
    good = tmp_path / "koe.yaml"
    good.write_text(JOURNEY_CONFIG + "primary_score: csat\n", encoding="utf-8")
    config = load_config(good)
    assert [s.name for s in config.score_scales()] == ["nps", "csat", "ces", "continuation"]
    assert config.primary_score == "csat" and config.journey.columns[2] == "response"
    bad = tmp_path / "bad.yaml"
    bad.write_text("scores:\n  - {name: nps, column: x, kind: csat}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="reserved"):
        load_config(bad)
    bad.write_text("primary_score: csat\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml:1: primary_score / journey.risk_score "
                       r"\['csat'\] not among the scores \['nps'\]"):
        load_config(bad)


def test_metric_drivers_of_a_second_nps_column_match_the_nps_drivers():
    comments, tags, _ = planted_survey(n=600)
    twin = ScoreScale.of("nps2", "nps2", "nps")
    ours = metric_drivers(comments.assign(nps2=comments["score"]), tags, twin, n_boot=50)
    nps = compute_drivers(comments, tags, n_boot=50)
    merged = ours.merge(nps, on=["theme", "polarity"], suffixes=("", "_nps"))
    assert len(merged) == len(nps) == 6
    np.testing.assert_allclose(merged["impact"], merged["impact_nps"])
    np.testing.assert_allclose(merged["nps_mentioning"], merged["nps_mentioning_nps"])
    assert (merged["promoters"] == merged["promoters_nps"]).all()
    assert list(ours.columns) == list(METRIC_DRIVER_COLUMNS) and set(ours["metric"]) == {"nps2"}


def test_a_planted_csat_theme_and_a_planted_continuation_theme_are_recovered():
    comments, tags, truth = planted_survey()
    for scale, theme, unrelated in ((CSAT, "wait", "price"), (CONTINUATION, "price", "wait")):
        scale = ScoreScale.of(scale.name, scale.name, scale.kind)
        table = metric_drivers(comments, tags, scale, n_boot=300, seed=0)
        row = table[(table["theme"] == theme) & (table["polarity"] == "negative")].iloc[0]
        planted = truth[(scale.name, theme)]
        assert row["impact"] < 0 and row["significant"], row
        assert row["impact_ci_low"] <= planted <= row["impact_ci_high"], (planted, row)
        other = table[(table["theme"] == unrelated) & (table["polarity"] == "negative")].iloc[0]
        assert not other["significant"]
        assert row["metric"] == scale.name


def test_journey_cells_comparisons_and_churn_risk_on_a_small_table():
    comments = pd.DataFrame({
        "id": [f"r{i}" for i in range(8)],
        "score": [10, 9, 3, 2, 8, 10, 0, 1],
        "continuation": [1, 1, 0, 0, 1, 1, 0, np.nan],
        "trouble": ["あり", "あり", "あり", "あり", "なし", "なし", "なし", "なし"],
        "response": ["期待以上", "期待以上", "期待以下", "期待以下", None, None, None, None],
    })  # fmt: skip
    scales = [NPS_SCALE, CONTINUATION]
    table = journey_table(comments, ["trouble", "response"], scales, min_n=2)
    cell = table[(table["cell"] == "あり×期待以上") & (table["metric"] == "continuation")].iloc[0]
    assert (cell["n"], cell["value"], cell["share_high"]) == (2, 100.0, 1.0)
    assert cell["vs_rest"] == pytest.approx(100 - 100 * 2 / 5)  # the other answered: 2 of 5 yes
    everyone = table[(table["cell"] == "(all)") & (table["metric"] == "nps")].iloc[0]
    assert everyone["n"] == 8 and everyone["value"] == pytest.approx(100 * (3 - 4) / 8)
    assert set(table["cell"]) == {"(all)", "あり×期待以上", "あり×期待以下", "なし×(missing)"}
    pairs = compare_cells(comments, [("above vs below", {"response": "期待以上"},
                                      {"response": "期待以下"})], scales, min_n=2)  # fmt: skip
    nps_row = pairs[pairs["metric"] == "nps"].iloc[0]
    assert (nps_row["a_value"], nps_row["b_value"], nps_row["difference"]) == (100, -100, 200)
    risk = churn_risk(comments, pd.DataFrame(columns=["id", "theme", "theme_name", "polarity",
                                                      "source"]),
                      ["trouble", "response"], CONTINUATION, min_n=2)  # fmt: skip
    assert risk.iloc[0]["cell"] == "あり×期待以下" and risk.iloc[0]["value"] == 0.0


@pytest.fixture(scope="module")
def journey_run(prefect_harness, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("journey")
    survey = journey_survey(tmp / "survey.csv")
    (tmp / "koe.yaml").write_text(JOURNEY_CONFIG, encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--input", str(survey), "--config",
                                      str(tmp / "koe.yaml"), "--out", str(tmp / "runs")])  # fmt: skip
    assert result.exit_code == 0, result.output
    return Path(result.output.split("finished: ")[1].split()[0]), survey


def test_a_survey_with_csat_ces_continuation_and_a_journey_runs_end_to_end(journey_run):
    folder, _ = journey_run
    quarantine = pd.read_csv(folder / "quarantine.csv", dtype=str).set_index("id")
    assert quarantine.loc["BAD1", "reason"] == "score_out_of_range"
    assert quarantine.loc["BAD1", "detail"] == "csat 6 is outside 1-5"
    assert quarantine.loc["BAD2", "reason"] == "invalid_score"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["input_rows"] == 494 == 480 + manifest["counts"]["quarantined"]
    drivers = pd.read_csv(folder / "drivers.csv")
    assert list(drivers.columns) == list(METRIC_DRIVER_COLUMNS)
    assert drivers["metric"].drop_duplicates().tolist() == ["nps", "csat", "ces", "continuation"]
    ces = drivers[(drivers["metric"] == "ces") & ~drivers["small_n"]]
    assert ces["nps_mentioning"].between(1, 7).all()  # a CES mean, not NPS points
    # the NPS rows are those of an NPS-only analysis of the same comments
    tagged = pd.read_parquet(folder / "tagged.parquet")
    assert tagged["csat"].isin([1, 2, 3, 4, 5]).all()  # labels mapped (非常に満足 -> 5)
    journey = pd.read_csv(folder / "journey.csv")
    assert set(journey["metric"]) == {"nps", "csat", "ces", "continuation"}
    assert (journey.loc[journey["cell"] == "(all)", "n"] == 480).all()
    comparisons = pd.read_csv(folder / "journey_comparisons.csv")
    assert len(comparisons) == 8
    below = comparisons[(comparisons["comparison"] == "below vs above expectation")
                        & (comparisons["metric"] == "nps")].iloc[0]  # fmt: skip
    assert below["difference"] < 0 and below["ci_low"] < below["difference"] < below["ci_high"]
    risk = pd.read_csv(folder / "churn_risk.csv")
    assert set(risk["metric"]) == {"continuation"} and risk["ci_high"].is_monotonic_increasing
    follow = pd.read_csv(folder / "routed" / "follow_up.csv", dtype=str)
    detractors_below = tagged[(tagged["nps_class"] == "detractor")
                              & (tagged["response"] == "期待以下")]  # fmt: skip
    assert len(detractors_below) > 10
    assert set(detractors_below["id"]) <= set(follow["id"])
    assert {"csat", "continuation", "trouble", "response"} <= set(follow.columns)
    said_no = tagged[tagged["continuation"] == 0]
    assert set(said_no["id"]) <= set(follow["id"])  # the churn risk is followed up too
    reasons = follow.set_index("id")["reason"]
    assert (reasons[list(detractors_below["id"])].str.startswith("detractor")).all()
    assert set(reasons) <= {"detractor", "continuation: low", "detractor; continuation: low"}
    assert len(follow) == len(set(tagged.loc[tagged["nps_class"] == "detractor", "id"])
                              | set(said_no["id"]))  # fmt: skip
    html = (folder / "report.html").read_text(encoding="utf-8")
    for marker in ('id="journey-table"', 'id="churn-risk-table"', 'id="comparison-table"',
                   'id="drivers-csat"', 'id="drivers-continuation"', "below vs above expectation"):
        assert marker in html, marker
    segments = pd.read_csv(folder / "segments.csv")
    assert not set(segments["segment"]) & {"csat", "ces", "continuation"}  # scores, not segments
    by_cell = pd.read_csv(folder / "journey_drivers.csv")
    assert set(by_cell["metric"]) == {"nps", "csat", "ces", "continuation"}
    assert (by_cell["cell_n"] >= 30).all() and "あり×あり×期待以下" in set(by_cell["cell"])
    by_segment = pd.read_csv(folder / "segment_scores.csv")
    assert {"plan", "trouble", "response"} <= set(by_segment["journey"])
    assert not set(by_segment["journey"]) & {"csat", "ces", "continuation"}
    trend = pd.read_csv(folder / "score_trend.csv")
    assert set(trend["journey"]) == {"period"} and set(trend["metric"]) == set(journey["metric"])
    scores = {s["name"]: s for s in manifest["analysis"]["scores"]}
    assert scores["csat"]["range"] == [1.0, 5.0] and scores["csat"]["answered"] == 480
    assert manifest["analysis"]["primary_score"] == "nps"


def test_the_report_leads_with_the_primary_score_and_tables_the_others():
    from koe.pipeline import metric_rows
    from koe.report import render_report, score_context

    from .report_data import context

    comments, tags, _ = planted_survey(n=600)
    table = pd.concat([metric_drivers(comments, tags, NPS_SCALE, n_boot=50),
                       metric_drivers(comments, tags, ScoreScale.of("csat", "csat", "csat"),
                                      n_boot=50)], ignore_index=True)  # fmt: skip
    assert len(metric_rows(table, "csat")) == 6 and set(metric_rows(table, "csat")["metric"]) == {
        "csat"}
    scales = [NPS_SCALE, ScoreScale.of("csat", "csat", "csat")]
    parts = score_context(table, {}, scales, primary="csat")
    assert parts["metric_label"] == "csat (top-box share, %)"
    assert [t["name"] for t in parts["metric_tables"]] == ["nps"]
    # the numbers under the chart are those of the csat chart, with csat impacts
    from koe.charts import driver_key

    csat_rows = metric_rows(table, "csat")
    assert parts["driver_key"] == driver_key(csat_rows) != driver_key(metric_rows(table, "nps"))
    assert {k["impact"] for k in parts["driver_key"]} <= set(csat_rows["impact"].astype(float))
    html = render_report({**context(), **parts})
    assert "Drivers / csat (top-box share, %)を動かすテーマ" in html
    assert 'id="drivers-nps"' in html and "csat (top-box share, %) mentioning" in html
    assert "Drivers / NPSを動かすテーマ" in render_report(context())  # an NPS-only report


def test_a_survey_without_a_recommend_score_runs_on_its_primary_score(prefect_harness, tmp_path):
    """columns.score: null: no NPS anywhere; nps_class holds the primary's classes, so routing,
    follow-up and the report work from CSAT."""
    survey = pd.read_csv(journey_survey(tmp_path / "full.csv"), dtype=str, keep_default_na=False)
    survey.drop(columns=["score"]).to_csv(tmp_path / "csat_only.csv", index=False)
    config = tmp_path / "koe.yaml"
    config.write_text("columns: {score: null}\nprimary_score: csat\n" + JOURNEY_CONFIG,
                      encoding="utf-8")  # fmt: skip
    result = CliRunner().invoke(app, ["run", "--input", str(tmp_path / "csat_only.csv"),
                                      "--config", str(config), "--out", str(tmp_path / "runs")])  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = Path(result.output.split("finished: ")[1].split()[0])
    quarantine = pd.read_csv(folder / "quarantine.csv", dtype=str)
    assert "missing_score" not in set(quarantine["reason"])  # no 0-10 score is asked for
    assert set(quarantine.loc[quarantine["id"].isin(["BAD1", "BAD2"]), "reason"]) == {
        "score_out_of_range", "invalid_score"}
    drivers = pd.read_csv(folder / "drivers.csv")
    assert drivers["metric"].drop_duplicates().tolist() == ["csat", "ces", "continuation"]
    tagged = pd.read_parquet(folder / "tagged.parquet")
    assert tagged["score"].isna().all()
    expected = tagged["csat"].map({1: "detractor", 2: "detractor", 3: "passive", 4: "promoter",
                                   5: "promoter"})  # fmt: skip
    assert (tagged["nps_class"] == expected).all()
    follow = pd.read_csv(folder / "routed" / "follow_up.csv", dtype=str)
    assert set(tagged.loc[tagged["csat"] <= 2, "id"]) <= set(follow["id"])
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "Drivers / csat (top-box share, %)を動かすテーマ" in html
    assert 'id="overall-csat"' in html and 'id="overall-nps"' not in html
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: {score: null}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="declare the survey's scores"):
        load_config(bad)
