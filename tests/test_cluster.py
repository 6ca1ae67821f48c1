"""Clustering and c-TF-IDF labels: deterministic, with outliers assigned and edge cases handled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from koe.config import ClusterConfig
from koe.discovery.clusterer import OUTLIER, cluster_vectors, effective_min_size
from koe.discovery.labels import catch_keywords, ctfidf_keywords
from koe.discovery.stable_ids import KnownThemes, id_number, match_cluster_ids, nearest_themes
from koe.discovery.themes import discover_themes, find_themes


def blobs(seed=0):
    rng = np.random.default_rng(seed)
    centers = np.eye(8)[:3] * 5
    points = np.vstack([c + rng.normal(0, 0.3, (10, 8)) for c in centers])
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_three_separated_groups_give_three_clusters_ordered_by_size():
    vectors = blobs()
    result = cluster_vectors(vectors, distance_threshold=0.5, min_cluster_size=3)
    assert len(result.centroids) == 3
    assert (result.labels != OUTLIER).all()
    # members of each planted group share one label
    assert [len(set(result.labels[i : i + 10])) for i in (0, 10, 20)] == [1, 1, 1]
    assert np.all(result.similarity > 0.8)


def test_clustering_is_deterministic():
    a = cluster_vectors(blobs(), distance_threshold=0.5)
    b = cluster_vectors(blobs(), distance_threshold=0.5)
    assert np.array_equal(a.labels, b.labels)
    assert np.array_equal(a.centroids, b.centroids)


def test_small_groups_become_outliers_unless_close_to_a_centroid():
    vectors = np.vstack([blobs()[:10], -np.eye(8)[:1]])  # one far-away point
    result = cluster_vectors(vectors, distance_threshold=0.5, min_cluster_size=3)
    assert result.labels[-1] == OUTLIER and np.isnan(result.similarity[-1])
    assert (result.labels[:10] == 0).all()


def test_too_few_texts_gives_a_message_not_a_crash():
    result = cluster_vectors(np.ones((2, 4)), min_cluster_size=3)
    assert (result.labels == OUTLIER).all()
    assert "too few texts" in result.message
    empty = cluster_vectors(np.zeros((0, 4)))
    assert empty.labels.shape == (0,) and "too few" in empty.message


def test_identical_texts_form_one_cluster():
    result = cluster_vectors(np.ones((5, 4)), min_cluster_size=3)
    assert result.labels.tolist() == [0] * 5


def test_ctfidf_prefers_words_specific_to_a_cluster():
    docs = [["レポート", "遅い", "レポート", "表示"], ["料金", "高い", "遅い"]]
    assert ctfidf_keywords(docs, top_n=2) == [["レポート", "表示"], ["料金", "高い"]]


def test_discover_themes_labels_and_statistics():
    texts = ["レポートが遅い"] * 3 + ["料金が高い"] * 3 + ["ロゴの色が好き"]
    units = pd.DataFrame({"id": [f"c{i}" for i in range(7)], "sentence_idx": 0, "text": texts,
                          "start": 0, "end": 5})  # fmt: skip
    vectors = np.vstack([np.eye(4)[0]] * 3 + [np.eye(4)[1]] * 3 + [np.eye(4)[2]])
    comments = pd.DataFrame({"id": units["id"], "score": [0, 1, 2, 10, 9, 9, 5]})
    assignments, themes, message = discover_themes(
        units, vectors, comments, settings=ClusterConfig(min_cluster_size=3)
    )
    assert message == ""
    assert themes["cluster_id"].tolist() == ["cluster_01", "cluster_02"]
    assert themes["keywords"].str.split(", ").str[0].tolist() == ["レポート", "料金"]
    assert themes["nps"].tolist() == [-100.0, 100.0]
    assert assignments["cluster_id"].tolist() == ["cluster_01"] * 3 + ["cluster_02"] * 3 + [""]
    assert themes["representatives"].iloc[0] == "レポートが遅い"


# -- parameters, outliers, minimum size -----------------------------------------------------------


BAD_PARAMETERS = [
    {"distance_threshold": 0}, {"distance_threshold": 2.5}, {"min_cluster_size": 0},
    {"min_cluster_share": 1.0}, {"max_items": 1},
]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_PARAMETERS)
def test_bad_parameters_raise_value_error(bad):
    with pytest.raises(ValueError):
        cluster_vectors(blobs(), **bad)


def test_min_cluster_share_dissolves_clusters_below_the_share():
    # 3 groups of 10: a share of 0.4 needs 12 members, so no cluster survives
    result = cluster_vectors(blobs(), distance_threshold=0.5, min_cluster_share=0.4)
    assert len(result.centroids) == 0 and "minimum size 12" in result.message
    assert effective_min_size(30, 3, 0.0025) == 3 and effective_min_size(4000, 3, 0.0025) == 10


def test_borderline_texts_join_the_nearest_cluster_above_the_assign_threshold():
    rng = np.random.default_rng(1)
    group = np.eye(8)[0] * 5 + rng.normal(0, 0.3, (10, 8))
    border = np.eye(8)[0] + np.eye(8)[1] * 1.5  # cosine ~0.55 to the group's centroid
    vectors = np.vstack([group, border])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    strict = cluster_vectors(vectors, distance_threshold=0.3, assign_threshold=0.8)
    loose = cluster_vectors(vectors, distance_threshold=0.3, assign_threshold=0.4)
    assert strict.labels[-1] == OUTLIER
    assert loose.labels[-1] == 0 and 0.4 < loose.similarity[-1] < 0.8


def test_identical_texts_say_so():
    result = cluster_vectors(np.ones((4, 3)))
    assert result.labels.tolist() == [0] * 4 and "identical" in result.message


# -- keywords that would catch a cluster ----------------------------------------------------------


def test_catch_keywords_cover_the_members_at_the_required_precision():
    sets = [frozenset(s) for s in (
        {"駐車場", "狭い"}, {"駐車場", "遠い"}, {"駐車", "料金"}, {"料金", "高い"}, {"料金", "安い"},
        {"料金", "駐車場"},
    )]  # fmt: skip
    members = np.array([True, True, True, False, False, True])
    words, coverage, precision = catch_keywords(
        sets, members, np.ones(6), ["料金", "駐車場", "駐車", "狭い"], min_support=0
    )
    # 料金 is in 4 texts of which 2 members (precision 0.5, taken), 駐車場 adds one member,
    # 駐車 is in one member only (support 2 not met), 狭い covers nothing new
    assert words == ["料金", "駐車場"]
    assert coverage == 1.0 and precision == 4 / 6  # every member; 2 of 6 texts are not


# -- stable ids --------------------------------------------------------------------------------


def test_matching_keeps_ids_of_unchanged_themes_and_never_reuses_numbers():
    old = np.eye(4)[:3]
    known = KnownThemes(("cluster_01", "cluster_02", "cluster_07"), old, next_number=8)
    new = np.vstack([np.eye(4)[3], old[2], old[0] * 0.9 + old[1] * 0.1])  # new, 07, ~01
    ids, kept = match_cluster_ids(new, known, threshold=0.9)
    assert ids == ["cluster_08", "cluster_07", "cluster_01"]
    assert kept == [False, True, True]
    # two new clusters in size order get consecutive fresh numbers
    ids, _ = match_cluster_ids(np.eye(4)[2:], KnownThemes(next_number=3))
    assert ids == ["cluster_03", "cluster_04"]
    assert id_number("cluster_12") == 12 and id_number("support") == 0


def test_nearest_theme_of_each_cluster():
    themes = {"parking": np.array([1.0, 0, 0]), "toilet": np.array([0, 1.0, 0])}
    out = nearest_themes(np.array([[0.9, 0.1, 0], [0, 0.2, 1.0]]), themes)
    assert out[0][0] == "parking" and out[0][1] > 0.99
    assert out[1][0] == "toilet" and out[1][1] < 0.3
    assert nearest_themes(np.ones((1, 3)), {}) == [("", pytest.approx(np.nan, nan_ok=True))]


def test_keywords_show_surface_forms_and_proposals_use_the_threshold():
    texts = ["ゴミ箱がない"] * 3 + ["ゴミ箱が少ない"] * 2 + ["料金が高い"] * 3
    units = pd.DataFrame({"id": [f"c{i}" for i in range(8)], "text": texts})
    vectors = np.vstack([np.eye(4)[0]] * 5 + [np.eye(4)[1]] * 3)
    comments = pd.DataFrame({"id": units["id"], "score": np.nan})
    found = find_themes(units, vectors, comments, theme_centroids={"price": np.eye(4)[1]})
    themes = found.themes.set_index("cluster_id")
    # Sudachi normalizes ゴミ箱 to 塵箱; keywords show what people wrote
    assert themes.loc["cluster_01", "keywords"].split(", ")[0] == "ゴミ箱"
    assert themes.loc["cluster_01", "catch_keywords"] == "ゴミ箱"
    assert themes["proposal"].tolist() == ["new_theme", "add_to_theme"]
    assert themes.loc["cluster_02", "nearest_theme"] == "price"
    assert np.isnan(themes.loc["cluster_01", "nps"])  # no scores: no NPS, no crash
    assert found.new_ids == ("cluster_01", "cluster_02") and found.kept_ids == ()


def test_above_max_items_a_sample_is_clustered_with_the_minimum_size_scaled_to_it():
    rng = np.random.default_rng(0)
    centers = np.eye(8)[:3] * 5
    points = np.vstack([c + rng.normal(0, 0.3, (40, 8)) for c in centers])
    # 120 texts, 60 clustered: each group has ~20 sampled members, under 30 but over 30 * 0.5
    result = cluster_vectors(points, distance_threshold=0.5, min_cluster_size=30, max_items=60)
    assert len(result.centroids) == 3 and (result.labels != OUTLIER).all()
    assert [len(set(result.labels[i : i + 40])) for i in (0, 40, 80)] == [1, 1, 1]
    again = cluster_vectors(points, distance_threshold=0.5, min_cluster_size=30, max_items=60)
    assert np.array_equal(result.labels, again.labels)  # the sample is seeded
