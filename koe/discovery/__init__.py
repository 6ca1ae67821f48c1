"""Theme discovery: the stage that surfaces themes nobody has listed yet.

Its modules, bottom up:

- ``clusterer``: :class:`ThemeClusterer`, a scikit-learn-style estimator (``fit``/``predict``
  over embeddings, settings from koe.yaml's ``cluster:`` section) whose base clusterer can be
  swapped (``base=KMeans(...)``);
- ``labels``: c-TF-IDF keywords in readable Japanese, and the keywords that would catch a
  cluster as a lookup theme;
- ``stable_ids``: cluster ids kept across runs, and each cluster's nearest lookup theme;
- ``themes``: :func:`find_themes`, clusters + labels + ids + statistics over one set of units;
- ``discover``: the stage itself (:func:`run_discovery` for ``koe run``, :func:`discover_table`
  for ``koe discover``): embeddings through the cache, units, theme samples, cluster tags.
"""

from koe.discovery.clusterer import OUTLIER, ClusterResult, ThemeClusterer, cluster_vectors
from koe.discovery.discover import (
    CLUSTERS_COLUMNS,
    DiscoveryResult,
    cluster_units,
    discover_table,
    prepare_table,
    run_discovery,
    write_discovery,
)
from koe.discovery.stable_ids import KnownThemes
from koe.discovery.themes import THEME_COLUMNS, Discovery, empty_themes, find_themes

__all__ = [
    "CLUSTERS_COLUMNS",
    "OUTLIER",
    "THEME_COLUMNS",
    "ClusterResult",
    "Discovery",
    "DiscoveryResult",
    "KnownThemes",
    "ThemeClusterer",
    "cluster_units",
    "cluster_vectors",
    "discover_table",
    "empty_themes",
    "find_themes",
    "prepare_table",
    "run_discovery",
    "write_discovery",
]
