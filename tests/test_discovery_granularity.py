"""Discovery adapts to the corpus: the cut comes from the data, a big non-cohesive cluster is
re-cut, clusters are grouped for reading (parent_id), and labels carry content words only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from koe import pipeline
from koe.config import load_config
from koe.discovery import discover_table, prepare_table
from koe.discovery.clusterer import ThemeClusterer, mean_pair_distance
from koe.discovery.themes import label_phrase
from koe.ingest import load_comments
from koe.store import RunStore
from koe.taggers.tokenize import FORMAL_NOUNS, LIGHT_VERBS, tokenize

from .conftest import LOOKUP_LISTS

REPO = Path(__file__).resolve().parents[1]
GOLD = REPO / "bench" / "discovery_gold"


def topics(n_topics: int, per_topic: int, shared: float, seed: int = 0) -> tuple[np.ndarray,
                                                                               np.ndarray]:  # fmt: skip
    """Unit vectors of ``n_topics`` topics; ``shared`` is the weight of one direction common
    to all (long texts embed alike: their vectors share a large component)."""
    rng = np.random.default_rng(seed)
    dim = 64
    common = rng.normal(size=dim)
    centres = rng.normal(size=(n_topics, dim))
    labels = np.repeat(np.arange(n_topics), per_topic)
    x = shared * common / np.linalg.norm(common) + (1 - shared) * (
        centres[labels] / np.linalg.norm(centres[labels], axis=1, keepdims=True)
        + 0.6 * rng.normal(size=(len(labels), dim)) / np.sqrt(dim)
    )
    return x / np.linalg.norm(x, axis=1, keepdims=True), labels


def test_mean_pair_distance_matches_the_pairwise_mean():
    x, _ = topics(3, 10, 0.3)
    sims = x @ x.T
    expected = 1 - sims[~np.eye(len(x), dtype=bool)].mean()
    assert mean_pair_distance(x) == pytest.approx(expected)
    weights = np.arange(1, len(x) + 1, dtype=float)
    pairs = np.outer(weights, weights)[~np.eye(len(x), dtype=bool)]
    weighted = 1 - (sims[~np.eye(len(x), dtype=bool)] * pairs).sum() / pairs.sum()
    assert mean_pair_distance(x, weights) == pytest.approx(weighted)


@pytest.mark.parametrize("shared", [0.0, 0.55])
def test_the_cut_follows_the_data_short_and_long_texts_alike(shared):
    x, truth = topics(8, 40, shared)
    fixed = ThemeClusterer(distance_threshold=0.70).fit(x)
    adaptive = ThemeClusterer().fit(x)
    assert adaptive.threshold_ == pytest.approx(0.85 * mean_pair_distance(x))
    assert normalized_mutual_info_score(truth, adaptive.labels_) >= 0.95
    assert np.bincount(adaptive.labels_[adaptive.labels_ >= 0]).max() / len(x) <= 0.25
    if shared:  # the old fixed cut merges texts that all embed alike into one blob
        assert np.bincount(fixed.labels_[fixed.labels_ >= 0]).max() / len(x) > 0.9


def test_a_big_cohesive_cluster_stays_whole_and_a_big_blob_is_re_cut():
    x, truth = topics(6, 30, 0.0, seed=1)
    tight = np.tile(x[:1], (300, 1)) + 0.05 * np.random.default_rng(2).normal(size=(300, 64)) / 8
    tight /= np.linalg.norm(tight, axis=1, keepdims=True)
    both = np.vstack([x, tight])  # one true category holds 300 of 480 texts
    labels = ThemeClusterer().fit_predict(both)
    assert len(set(labels[180:])) == 1  # kept whole: it is one theme, however big
    assert normalized_mutual_info_score(truth, labels[:180]) >= 0.9


def largest_share(labels: np.ndarray) -> float:
    return np.bincount(labels[labels >= 0]).max() / len(labels)


def test_long_real_answers_no_blob_the_big_non_cohesive_cluster_is_re_cut(tmp_path):
    """200 long real answers (the tune split of bench/discovery_gold/long_requests)."""
    from koe.models.embedding_cache import embed_with_cache

    texts = pd.read_csv(GOLD / "long_requests" / "tune_texts.csv", dtype=str)["text"].tolist()
    x, _ = embed_with_cache(texts, "koe-default", None)
    fixed = ThemeClusterer(distance_threshold=0.70).fit_predict(x)
    assert largest_share(fixed) > 0.6  # the old fixed cut: one blob
    uncut = ThemeClusterer(max_cluster_share=1.0).fit_predict(x)
    assert largest_share(uncut) > 0.25  # the data's cut alone leaves a third in one cluster
    assert largest_share(ThemeClusterer().fit_predict(x)) <= 0.25  # ... which is re-cut


def test_many_clusters_are_grouped_and_every_parent_is_one_of_them():
    x, _ = topics(30, 12, 0.0, seed=4)
    clusterer = ThemeClusterer().fit(x)
    k = len(clusterer.cluster_centers_)
    assert k > 20 and clusterer.groups_ is not None
    assert 10 <= clusterer.groups_.max() + 1 <= 20
    assert ThemeClusterer(max_groups=40).fit(x).groups_ is None  # 30 clusters: no grouping


def test_label_phrase_is_a_short_text_or_its_first_clause():
    assert label_phrase("駐車場が狭い") == "駐車場が狭い"
    assert label_phrase("駐車場が狭い、停めるのに時間がかかり、歩くのも大変だった") == "駐車場が狭い"
    assert label_phrase("あ" * 40) == ""


@pytest.fixture(scope="module")
def sample_discovery(tmp_path_factory):
    """The discovery stage of ``koe run`` on the shipped sample (real Sudachi, embedder)."""
    config = load_config(None)
    comments, _ = load_comments(REPO / "samples" / "survey.csv")
    sentences = pipeline.sentences_of(comments)
    tags, tagger = pipeline.lookup_tag(sentences, LOOKUP_LISTS)
    store = RunStore(f"sqlite:///{tmp_path_factory.mktemp('state') / 'koe.sqlite'}")
    return pipeline.discover(sentences, tags, comments, config, store, tagger)


def test_sample_labels_have_no_particles_auxiliaries_or_formal_nouns(sample_discovery):
    themes = sample_discovery.themes
    assert len(themes) >= 5
    words = [w.strip() for column in ("keywords", "parent_label") for cell in themes[column]
             for w in str(cell).replace("・", ",").split(",") if w.strip()]  # fmt: skip
    for word in words:
        for token in tokenize(word):
            assert token.pos not in {"助詞", "助動詞"}, (word, token)
        assert word not in FORMAL_NOUNS and word not in LIGHT_VERBS, word
    assert set(themes["parent_id"]) <= set(themes["cluster_id"])
    assert (themes["label_phrase"].str.len() <= 24).all()


def gold(name: str) -> pd.DataFrame:
    texts = pd.read_csv(GOLD / name / "test_texts.csv", dtype=str, keep_default_na=False)
    labels = pd.read_csv(GOLD / name / "test_labels.csv", dtype=str)
    return texts.merge(labels, on="comment_id").rename(columns={"comment_id": "id"})


@pytest.mark.parametrize("name", ["short_inconvenience", "long_requests"])
def test_koe_discover_beats_k_means_told_the_true_k_on_hand_labelled_real_text(name, tmp_path):
    """The frozen hand-labelled splits of bench/discovery_gold (bench/discovery_gold.py)."""
    frame = gold(name)
    store = RunStore(f"sqlite:///{tmp_path / 'koe.sqlite'}")
    table, _ = prepare_table(frame, "id", "text")
    clusters, _, _ = discover_table(table, load_config(None), store, unit="comment")
    pred = clusters.set_index("id").loc[frame["id"], "cluster_id"].to_numpy()
    koe_nmi = normalized_mutual_info_score(frame["label"], pred)
    from koe.models.embedding_cache import embed_with_cache

    x, _ = embed_with_cache(frame["text"].tolist(), "koe-default", store)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    true_k = frame["label"].nunique()
    kmeans = np.mean([normalized_mutual_info_score(
        frame["label"], KMeans(true_k, n_init=10, random_state=s).fit_predict(x))
        for s in range(3)])  # fmt: skip
    assert koe_nmi >= kmeans + 0.03
    assert (pred == "-1").mean() <= 0.10
    assert pd.Series(pred[pred != "-1"]).value_counts().iloc[0] / len(pred) <= 0.25
