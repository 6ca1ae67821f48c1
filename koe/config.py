"""koe.yaml: one validated config object; every path comes from here.

All fields are optional; `koe run` with no config runs on the shipped sample. Unknown keys and
wrong types are errors that name the file and line. Relative paths are resolved against the
config file's folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from koe.core.dburl import normalize_db_url
from koe.core.resources import resource_path
from koe.core.safety import check_department_id
from koe.core.scores import NPS_SCALE, ScoreScale
from koe.core.yamlio import LINE_KEY, line_of_key, load_yaml_with_lines, strip_lines

SAMPLE_INPUT = resource_path("koe.samples", "survey.csv")
DEFAULT_LOOKUP_LISTS = resource_path("koe.lookup_lists")
DEFAULT_ROUTING = resource_path("koe", "default_routing.yaml")


class ConfigError(ValueError):
    """koe.yaml (or a flag) is invalid; the message names the file and line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnsConfig(_Strict):
    """Input column names for the canonical fields."""

    id: str = "id"
    text: str = "text"
    score: str | None = "score"  # the 0-10 recommend score; null: a survey without one
    date: str = "date"
    customer_id: str = "customer_id"


class ClusterConfig(_Strict):
    enabled: bool = True
    unit: Literal["sentence", "comment"] = "sentence"
    only_untagged: bool = True
    # Defaults measured on the Fukui labelled sets: bench/results/discovery_quality.md.
    min_cluster_size: int = Field(3, ge=2)
    min_cluster_share: float = Field(0.0025, ge=0, lt=1)  # ... or this share of the texts
    # Average-linkage merging stops at distance_scale x the corpus' mean pairwise cosine distance
    # (0.85 x 0.82 = 0.70 on short answers; lower on long texts, which all embed alike); a fixed
    # distance_threshold overrides it.
    distance_threshold: float | None = Field(None, gt=0, lt=2)
    distance_scale: float = Field(0.85, gt=0, lt=2)
    max_cluster_share: float = Field(0.25, gt=0, le=1)  # a bigger cluster is re-cut on its own
    max_groups: int = Field(20, ge=2)  # above this many clusters, they are grouped (parent_id)
    assign_threshold: float = Field(0.30, ge=-1, le=1)  # borderline texts join their nearest
    max_items: int = Field(5000, ge=100)  # above: a seeded sample is clustered, the rest assigned
    max_keywords: int = Field(6, ge=1)
    representatives: int = Field(4, ge=1)
    id_match_threshold: float = Field(0.90, ge=-1, le=1)  # centroid cosine that keeps an id
    propose_threshold: float = Field(0.75, ge=-1, le=1)  # nearest lookup theme: add to it
    theme_sample: int = Field(200, ge=0)  # tagged sentences per lookup theme for its centroid


class DriversConfig(_Strict):
    n_boot: int = Field(500, ge=50)
    min_mentions: int = Field(5, ge=1)
    min_n: int = Field(30, ge=1)
    alpha: float = Field(0.05, gt=0, lt=1)
    regression_targets: list[Literal["detractor", "promoter", "score"]] = ["detractor", "promoter"]
    regression_n_boot: int = Field(200, ge=20)
    segment_combos: list[list[str]] = []  # e.g. [[had_trouble, asked_us, satisfied_answer]]
    max_segment_values: int = Field(50, ge=2)  # wider columns (free text, ids) are skipped
    trend_period: Literal["D", "W", "M", "Q"] = "W"
    trend_trailing: int = Field(4, ge=2)
    trend_z: float = Field(2.0, gt=0)
    trend_min_count: int = Field(5, ge=1)
    segment_n_boot: int = Field(200, ge=20)  # bootstrap of the per-segment driver tables
    # drivers.csv over every comment seen in the last N days (the run-state store), not only
    # tonight's input; None: tonight's input only
    window_days: int | None = Field(None, ge=1)


class ScoreConfig(_Strict):
    """One more score column (koe.core.scores): CSAT, CES, yes/no, a labelled scale."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  # the metric's name in drivers.csv etc.
    column: str  # the input column
    kind: Literal["nps", "csat", "ces", "binary", "ordinal"]
    min: float | None = None  # default: the kind's range (csat 1-5, ces 1-7, ordinal: labels)
    max: float | None = None
    labels: dict[str, float] = {}  # text in the data -> value, e.g. 非常に満足: 5
    top_box: int = Field(2, ge=1)  # csat: the top-k-box share
    easy_at: float | None = None  # ces: scores at or above this are "easy" (default max - 2)

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in {"nps", "score", "id", "text", "date", "customer_id", "nps_class",
                     "source_row", "sentiment", "sentiment_score", "non_answer"}:  # fmt: skip
            raise ValueError(f"{value!r} is reserved (the 0-10 score is always the metric nps)")
        return value

    def scale(self) -> ScoreScale:
        return ScoreScale.of(self.name, self.column, self.kind, low=self.min, high=self.max,
                             labels=self.labels, top_box=self.top_box,
                             easy_at=self.easy_at)  # fmt: skip


class CellComparison(_Strict):
    """Two groups of journey cells compared on every score: each a {column: value(s)} filter."""

    name: str
    a: dict[str, str | list[str]]
    b: dict[str, str | list[str]]


class JourneyConfig(_Strict):
    """Journey segments (koe.analysis.journey): cells of these columns' values, every score per
    cell, the declared comparisons, and where continuation (``risk_score``) is lowest."""

    columns: list[str] = Field(min_length=1)  # e.g. [trouble, contacted, response]
    compare: list[CellComparison] = []
    risk_score: str | None = None  # default: the first binary/ordinal score, else the primary


class SemanticConfig(_Strict):
    """The semantic layer over the lookup lists (koe.taggers.semantic; README: Tagging)."""

    enabled: bool = True
    neighbours: int = Field(30, ge=1)  # references that vote on a sentence's themes
    add_at: float = Field(0.40, gt=0, le=1)  # a theme's score that adds it (tuned, see README)
    veto_below: float = Field(0.15, ge=0, le=1)  # lookup hit below this x the best score: veto
    veto_min_references: int = Field(60, ge=1)  # themes with fewer tagged sentences: no veto
    max_references: int = Field(1000, ge=10)  # tagged sentences sampled per theme
    review_reach: float = Field(0.80, gt=0, le=1)  # one review decision alone tags this close


class TaggingConfig(_Strict):
    """Lookup tagging of the comments the tag cache does not know (see flows/partitioned.py)."""

    partitions: int = Field(1, ge=1)  # > 1: tag in this many parts, as Prefect tasks
    dask_address: str | None = None  # None: threads; "local": a Dask LocalCluster; tcp://...
    dask_workers: int = Field(2, ge=1)  # threads, or LocalCluster worker processes


class RuleCondition(_Strict):
    """All given fields must hold (lists mean "any of")."""

    nps_class: list[Literal["promoter", "passive", "detractor"]] | None = None
    polarity: list[Literal["positive", "negative", "neutral"]] | None = None
    department: list[str] | None = None
    source: list[Literal["lookup", "semantic", "review", "cluster"]] | None = None
    is_request: bool | None = None
    untagged: bool | None = None


class RoutingRule(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    to: str = Field(pattern=r"^[a-z0-9_]+$")
    when: RuleCondition = RuleCondition()
    description: str = ""

    @field_validator("to")
    @classmethod
    def _safe_file_name(cls, value: str) -> str:
        return check_department_id(value)  # becomes routed/<to>.csv


class KoeConfig(_Strict):
    input: Path | None = None  # a file, or a folder of daily export files (new ones are read)
    input_sql: str | None = None  # a SELECT run on input_db_url instead of an input file
    input_db_url: str | None = None  # SQLAlchemy URL for input_sql
    columns: ColumnsConfig = ColumnsConfig()
    sub_scores: list[str] | None = None  # None: every column starting with sub_score_prefix
    sub_score_prefix: str = "sub_"
    segments: list[str] | None = None  # None: every other column
    lookup_lists: Path = DEFAULT_LOOKUP_LISTS
    embedding_model: str = "koe-default"
    polarity_model: str = "koe-default"  # sentence classifier behind the lexicon; "none": off
    state_db: str | None = None  # SQLAlchemy URL or a file path; default <out>/koe_state.sqlite
    lock_timeout_s: float = Field(600, ge=0)  # wait this long for another run, then exit
    out: Path = Path("koe_runs")
    seed: int = 0
    mask_pii: bool = True
    cluster: ClusterConfig = ClusterConfig()
    drivers: DriversConfig = DriversConfig()
    tagging: TaggingConfig = TaggingConfig()
    semantic: SemanticConfig = SemanticConfig()
    routing: list[RoutingRule] | None = None  # None: koe/default_routing.yaml
    scores: list[ScoreConfig] = []  # more score columns; the 0-10 ``score`` is always "nps"
    primary_score: str = "nps"  # the metric the report leads with
    journey: JourneyConfig | None = None

    @model_validator(mode="after")
    def _known_scores(self) -> KoeConfig:
        names = [s.name for s in self.scores]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"scores: {twice} named twice")
        for s in self.scores:
            try:
                s.scale()
            except ValueError as exc:
                raise ValueError(str(exc)) from None
        known = ["nps", *names] if self.columns.score is not None else names
        if not known:
            raise ValueError("columns.score is null: declare the survey's scores under scores:")
        wanted = [self.primary_score]
        if self.journey is not None and self.journey.risk_score is not None:
            wanted.append(self.journey.risk_score)
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise ValueError(f"primary_score / journey.risk_score {unknown} not among the "
                             f"scores {known}")  # fmt: skip
        return self

    def score_scales(self) -> list[ScoreScale]:
        """Every score's scale, the 0-10 recommend score (nps) first when there is one."""
        more = [s.scale() for s in self.scores]
        return more if self.columns.score is None else [NPS_SCALE, *more]

    def routing_rules(self, departments: Sequence[str] | None = None) -> list[RoutingRule]:
        """koe.yaml's ``routing``, else the default rules fitted to ``departments`` (those the
        lookup lists' themes use): a default rule to a department the lists do not have is
        dropped (no "product" file for a tourism list), and each list department without a
        rule gets a follow-up rule for its detractors' negative mentions. Triage always stays,
        last."""
        if self.routing is not None:
            return self.routing
        doc = yaml.safe_load(DEFAULT_ROUTING.read_text(encoding="utf-8"))
        rules = [RoutingRule(**rule) for rule in doc["rules"]]
        if departments is None:
            return rules
        kept = [r for r in rules if r.to in departments and r.to != "triage"]
        covered = {r.to for r in kept}
        added = [
            RoutingRule(name=f"{d}_follow_up", to=d,
                        description=f"詳細フォロー — detractors with a negative {d} theme",
                        when=RuleCondition(nps_class=["detractor"], department=[d],
                                           polarity=["negative"]))
            for d in departments if d not in covered and d != "triage"
        ]  # fmt: skip
        return kept + added + [r for r in rules if r.to == "triage"]

    def state_url(self) -> str:
        """The run-state store's SQLAlchemy URL; ``postgresql://`` means psycopg 3
        (koe.core.dburl)."""
        return state_url_of(self.state_db or self.out / "koe_state.sqlite")


def state_url_of(state_db: str | Path) -> str:
    """The SQLAlchemy URL of a run-state database given as a URL or a file path."""
    if "://" in str(state_db):
        return normalize_db_url(str(state_db))
    return f"sqlite:///{Path(state_db).resolve()}"


def _line_of(doc: Any, loc: tuple[Any, ...]) -> int | None:
    line = doc.get(LINE_KEY) if isinstance(doc, dict) else None
    node = doc
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and LINE_KEY in node:
            line = node[LINE_KEY]
    return line


def load_config(path: str | Path | None = None, **overrides: Any) -> KoeConfig:
    """Load koe.yaml (or defaults when ``path`` is None) and apply non-None ``overrides``.

    Raises:
        ConfigError: with the file and line of the offending key.
    """
    data: dict[str, Any] = {}
    base = Path.cwd()
    doc: Any = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        doc = load_yaml_with_lines(path, ConfigError)
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            raise ConfigError(f"{path}: top level must be a mapping")
        data = strip_lines(doc)
        base = path.resolve().parent
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "columns" and isinstance(value, dict):  # flags map single columns
            value = {**data.get("columns", {}), **value}
        data[key] = value
    try:
        config = KoeConfig(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        line = (line_of_key(path, loc) if path else None) or _line_of(doc, loc)
        where = f"{path}:{line}" if path and line else str(path or "config")
        field = ".".join(str(p) for p in loc)
        message = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{where}: {field}: {message}" if field else f"{where}: {message}") \
            from exc
    updates: dict[str, Any] = {}
    for name in ("input", "lookup_lists", "out"):
        value = getattr(config, name)
        if value is not None and not value.is_absolute() and overrides.get(name) is None:
            updates[name] = base / value
    return config.model_copy(update=updates)
