"""The sentence polarity classifier behind the lexicon (models/polarity_model.py) and the tagger
rules added with it: excess (多すぎる, too basic), honorific 下さる, request themes, catch-alls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from koe.models.polarity_model import (
    PolarityModel,
    PolarityModelError,
    load_polarity_model,
    polarity_fallback,
    train_polarity_model,
)
from koe.taggers.lookup import LookupTagger
from koe.taggers.lookup_lists import LookupListError, load_lookup_lists
from koe.taggers.sentences import split_sentences

from .conftest import LOOKUP_LISTS


def test_predict_by_hand_and_confidence_floor():
    # two classes on a 2-dim space: logits (v0 - v1, v1 - v0)
    model = PolarityModel(
        ("negative", "positive"), np.array([[1.0, -1.0], [-1.0, 1.0]]), np.zeros(2), "x", 0.6
    )
    proba = model.predict_proba(np.array([[1.0, 0.0], [0.0, 0.0]]))
    # softmax(1, -1) = (e / (e + 1/e), ...) = 0.8808
    np.testing.assert_allclose(proba[0], [0.880797, 0.119203], atol=1e-6)
    np.testing.assert_allclose(proba[1], [0.5, 0.5])
    assert model.predict(np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]])) == [
        "negative", None, "positive",
    ]  # fmt: skip
    with pytest.raises(PolarityModelError, match="2-dim"):
        model.predict(np.zeros((1, 3)))


def test_train_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    pos = rng.normal([2, 0], 0.3, (40, 2))
    neg = rng.normal([-2, 0], 0.3, (40, 2))
    vectors = np.vstack([pos, neg])
    labels = ["positive"] * 40 + ["negative"] * 40
    model = train_polarity_model(vectors, labels, "my-embedder", c=1.0, min_confidence=0.5)
    assert model.classes == ("negative", "positive") and model.coef.shape == (2, 2)
    assert model.predict(np.array([[2.0, 0.0], [-2.0, 0.0]])) == ["positive", "negative"]
    model.save(tmp_path / "m")
    again = load_polarity_model(tmp_path / "m")
    assert again.embedder == "my-embedder" and again.min_confidence == 0.5
    np.testing.assert_allclose(again.coef, model.coef, rtol=1e-6)  # stored as float32
    with pytest.raises(PolarityModelError, match="unknown labels"):
        train_polarity_model(vectors, ["good"] * 80, "x")


def test_bad_model_folders(tmp_path):
    with pytest.raises(PolarityModelError, match="not a polarity model"):
        load_polarity_model(tmp_path)
    (tmp_path / "meta.json").write_text('{"classes": ["happy"], "embedder": "x"}')
    np.savez(tmp_path / "weights.npz", coef=np.zeros((1, 2)), intercept=np.zeros(1))
    with pytest.raises(PolarityModelError, match="classes must be among"):
        load_polarity_model(tmp_path)
    assert polarity_fallback("none") is None and polarity_fallback(None) is None


def test_default_model_reads_sentences_the_lexicon_cannot():
    model = load_polarity_model()
    assert model.embedder == "koe-default" and set(model.classes) == {
        "negative", "neutral", "positive",
    }  # fmt: skip
    assert "FTAS" in model.info["data"]  # CC BY 4.0 attribution travels with the weights
    classify = polarity_fallback()
    assert classify(["ヘルプデスクに電話したがつながらない。", "The billing has been a mess."]) == [
        "negative", "negative",
    ]  # fmt: skip


def fake_tagger(verdict):
    calls = []

    def fallback(texts):
        calls.append(list(texts))
        return [verdict] * len(texts)

    return LookupTagger.from_folder(LOOKUP_LISTS, polarity_fallback=fallback), calls


def tag(tagger, *texts):
    comments = pd.DataFrame({"id": [f"c{i}" for i in range(len(texts))], "text": list(texts)})
    tags = tagger.tag(split_sentences(comments))
    return {(r.id, r.theme): r.polarity for r in tags.itertuples()}


def test_fallback_only_where_no_sentiment_word_reaches():
    tagger, calls = fake_tagger("negative")
    got = tag(tagger, "返信が遅い。", "ヘルプデスクに電話したがつながらない。", "CSV出力機能があれば嬉しい")
    # the lexicon decides the first; the classifier sees only the clause-to-end text of the
    # second; the request keeps its lexicon reading (a wish is not a complaint)
    assert got[("c0", "support_response_speed")] == "negative"
    assert calls == [["ヘルプデスクに電話したが"]] or calls == [
        ["ヘルプデスクに電話したがつながらない。"]
    ]
    assert got[("c2", "product_feature_requests")] == "neutral"
    # a theme whose list sets default_polarity keeps it (the analyst's rule wins)
    tagger, calls = fake_tagger("positive")
    assert tag(tagger, "昨日サーバー障害があった。")[("c0", "product_stability")] == "negative"
    # None = no opinion: the lexicon's neutral stays
    tagger, _ = fake_tagger(None)
    assert tag(tagger, "ヘルプデスクに電話した。")[("c0", "support_general")] == "neutral"


@pytest.mark.parametrize(
    ("text", "theme", "polarity"),
    [
        ("アップデート内容が多すぎて追いきれない。", "content_product_updates", "negative"),
        ("Workshops were too basic for our team.", "usage_training", "negative"),
        # "bad" is a lexicon word: no double count, and "not" flips it
        ("The dashboard is not too bad.", "product_reports", "positive"),
        ("担当の方が的確に回答してくださり助かりました。", "people_account_manager", "positive"),
        ("請求が重複していました。", "commercial_contract_billing", "negative"),
        ("平日昼間のメンテナンスはやめてほしい。", "product_stability", "negative"),
        ("Case studies from our industry would be really helpful.", "content_case_studies", "neutral"),
    ],
)
def test_lexicon_rules(tagger, text, theme, polarity):
    hits = {h["theme"]: h for h in tagger.match_sentence(text)}
    assert hits[theme]["polarity"] == polarity


def test_catch_requests_theme_joins_requests_about_its_siblings(tagger):
    hits = {h["theme"]: h for h in tagger.match_sentence("レポートのテンプレートを増やしてほしい。")}
    assert set(hits) == {"product_reports", "product_feature_requests"}
    assert hits["product_feature_requests"]["is_request"]
    assert hits["product_feature_requests"]["evidence"] in ("ほしい", "してほしい")
    # a request about no theme, or only about another parent's theme, is left alone
    assert tagger.match_sentence("これからも頑張ってください。") == []
    billing = {h["theme"] for h in tagger.match_sentence("請求書の送付先を変更してほしい。")}
    assert "product_feature_requests" not in billing


def test_fallback_theme_yields_to_a_specific_sibling(tmp_path):
    (tmp_path / "polarity.yaml").write_text((LOOKUP_LISTS / "polarity.yaml").read_text())
    (tmp_path / "t.yaml").write_text(
        "version: 1\n"
        "themes:\n"
        "  - {id: support, name: サポート, department: support}\n"
        "  - {id: support_any, name: サポート全般, parent: support, fallback: true,"
        " keywords: [サポート]}\n"
        "  - {id: support_speed, name: 速さ, parent: support, keywords: [返信]}\n",
        encoding="utf-8",
    )
    tagger = LookupTagger.from_folder(tmp_path)
    assert {h["theme"] for h in tagger.match_sentence("サポートの返信が遅い")} == {"support_speed"}
    assert {h["theme"] for h in tagger.match_sentence("サポートが丁寧")} == {"support_any"}
    (tmp_path / "t.yaml").write_text(
        "version: 1\nthemes:\n  - {id: a, name: A, department: support, fallback: maybe}\n",
        encoding="utf-8",
    )
    with pytest.raises(LookupListError, match=r"t\.yaml.*fallback and catch_requests"):
        load_lookup_lists(tmp_path)
