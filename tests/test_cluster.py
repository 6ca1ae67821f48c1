"""Clustering and c-TF-IDF labels: deterministic, with outliers assigned and edge cases handled."""

from __future__ import annotations

import numpy as np
import pandas as pd

from taggers.cluster import OUTLIER, cluster_vectors, ctfidf_keywords, discover_themes


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
    assignments, themes, message = discover_themes(units, vectors, comments, min_cluster_size=3)
    assert message == ""
    assert themes["cluster_id"].tolist() == ["cluster_01", "cluster_02"]
    assert themes["keywords"].str.split(", ").str[0].tolist() == ["レポート", "料金"]
    assert themes["nps"].tolist() == [-100.0, 100.0]
    assert assignments["cluster_id"].tolist() == ["cluster_01"] * 3 + ["cluster_02"] * 3 + [""]
    assert themes["representatives"].iloc[0] == "レポートが遅い"
