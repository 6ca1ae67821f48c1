"""ThemeClusterer: scikit-learn conventions, the default merging, and a swapped-in base clusterer
(KMeans) through the whole discovery stage with the real embedder."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.cluster import KMeans

from koe.config import ClusterConfig, load_config
from koe.discovery import ThemeClusterer, cluster_vectors, discover_table, prepare_table
from koe.evaluate import evaluate_clusters
from tests.test_discover import survey


def blobs(seed=0, per=10):
    rng = np.random.default_rng(seed)
    centers = np.eye(8)[:3] * 5
    points = np.vstack([c + rng.normal(0, 0.3, (per, 8)) for c in centers])
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_settings_come_from_the_config_object_and_params_round_trip():
    config = ClusterConfig(distance_threshold=0.5, min_cluster_size=4, max_items=300)
    clusterer = ThemeClusterer.from_config(config, seed=7)
    params = clusterer.get_params()
    assert params["distance_threshold"] == 0.5 and params["min_cluster_size"] == 4
    assert params["max_items"] == 300 and params["random_state"] == 7 and params["base"] is None
    assert clone(clusterer).get_params() == params


def test_fit_predict_finds_the_three_blobs_and_predict_assigns_new_points():
    points = blobs()
    clusterer = ThemeClusterer(distance_threshold=0.5, min_cluster_size=3)
    labels = clusterer.fit_predict(points)
    assert sorted(np.bincount(labels)) == [10, 10, 10]
    assert clusterer.cluster_centers_.shape == (3, 8)
    assert np.allclose(np.linalg.norm(clusterer.cluster_centers_, axis=1), 1, atol=1e-5)
    fresh = blobs(seed=1)
    assert (clusterer.predict(fresh) == labels).all()  # same blobs, same order
    far = -np.eye(8)[:1]  # opposite every centre: cosine below the assign threshold
    assert clusterer.predict(far).tolist() == [-1]


def test_cluster_vectors_is_the_default_estimator():
    points = blobs()
    weights = np.arange(1, 31, dtype=float)
    result = cluster_vectors(points, weights, distance_threshold=0.5)
    clusterer = ThemeClusterer(distance_threshold=0.5, min_cluster_share=0.0)
    clusterer.fit(points, sample_weight=weights)
    assert (result.labels == clusterer.labels_).all()
    # largest weighted cluster first: the third blob carries the heaviest weights
    assert clusterer.labels_[-1] == 0 and clusterer.labels_[0] == 2


def test_a_kmeans_base_runs_through_discovery_with_the_real_embedder():
    table, _ = prepare_table(survey("parking", "toilet", "trash"), "id", "text")
    config = load_config(None)
    clusterer = ThemeClusterer.from_config(
        config.cluster, base=KMeans(n_clusters=3, n_init=10, random_state=0)
    )
    clusters, themes, _ = discover_table(table, config, None, clusterer=clusterer)
    assert len(themes) == 3 and len(clusters) == 20
    labels = survey("parking", "toilet", "trash")[["id", "label"]]
    scores = evaluate_clusters(labels, clusters)
    assert scores["clusters"] == 3 and scores["nmi"] > 0.8
    assert set(pd.unique(clusters["cluster_id"])) <= {*themes["cluster_id"], "-1"}
