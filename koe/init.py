"""``koe init``: a project for one's own domain in one command.

Writes ``koe.yaml`` (the column mapping to fill in, the list folder, the output folder and
the default routing rules fitted to the lists' departments, KoeConfig.routing_rules) and a
lookup-list folder: a copy of a shipped template, or one example theme to edit. Nothing
existing is overwritten.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from koe.config import KoeConfig
from koe.core.resources import resource_path
from koe.taggers.lookup_lists import POLARITY_FILE, load_lookup_lists

TEMPLATES = ("saas", "empty")

EXAMPLE_LIST = """\
# テーマ辞書（例）: 自分のデータに合わせてテーマを追加・編集してください。
# 書式と照合のルール: koe の lookup_lists/README.md。確認: koe lists check --lookup-lists .
# 評価語（狭い・遅い・丁寧 等）は koe の極性辞書が読みます。独自の語は polarity.yaml に
# positive / negative として書けば koe の辞書に追加されます（このフォルダになくても動きます）。
version: 1

departments:
  - id: operations
    name: 施設運営

themes:
  - id: parking
    name: {ja: 駐車場, en: Parking}
    department: operations
    description: 駐車場の広さ・台数・料金・混雑
    keywords: [駐車場, 駐車, パーキング]
    examples:
      match: [駐車場が狭くて停めにくかった]
      no_match: [駅から歩いてすぐだった]
"""

CONFIG_HEAD = """\
# koe project. Fill in the column names of your survey export (the header row), then:
#   koe lists check --lookup-lists {lists}
#   koe run --config koe.yaml --input YOUR_EXPORT.csv
# Every option: koe's README (Input contract, Outputs, koe.yaml).
columns:
  id: id          # one id per answer (回答ID)
  text: text      # the free-text answer (自由記述)
  score: score    # the 0-10 recommend score (推奨度); null when the survey has none
  date: date      # answer date (回答日); optional
# segments: [plan, channel]   # columns to break drivers down by (default: every other column)
# scores:                      # more scores: csat (1-5), ces (1-7), binary (はい/いいえ), ordinal
#   - {{name: csat, column: 満足度, kind: csat,
#      labels: {{非常に満足: 5, 満足: 4, どちらでもない: 3, 不満: 2, 非常に不満: 1}}}}
#   - {{name: continuation, column: 継続意向, kind: binary}}
# primary_score: csat          # the score the report leads with (default nps)
# journey:                     # every score per cell of what happened to the customer
#   columns: [トラブル, 問い合わせ, 対応評価]
lookup_lists: {lists}
out: koe_runs
"""


@dataclass(frozen=True)
class InitResult:
    config: Path
    lists: Path
    departments: tuple[str, ...]


class InitError(Exception):
    """A project that cannot be written (an existing koe.yaml, an unknown template)."""


def init_project(folder: str | Path, template: str = "empty") -> InitResult:
    """Write ``folder/koe.yaml`` and ``folder/lookup_lists/`` from ``template``.

    Raises:
        InitError: an unknown template, or a koe.yaml / lookup_lists folder already there.
    """
    if template not in TEMPLATES:
        raise InitError(f"unknown template {template!r}; choose one of {', '.join(TEMPLATES)}")
    folder = Path(folder)
    config, lists = folder / "koe.yaml", folder / "lookup_lists"
    for path in (config, lists):
        if path.exists():
            raise InitError(f"{path} already exists; koe init writes a new project only")
    lists.mkdir(parents=True)
    if template == "empty":
        (lists / "themes.yaml").write_text(EXAMPLE_LIST, encoding="utf-8")
    else:
        shipped = Path(resource_path("koe.lookup_lists"))
        for path in sorted(shipped.glob("*.yaml")):
            if path.name != POLARITY_FILE:  # koe's lexicon is the default; add your own words
                shutil.copy(path, lists / path.name)
    used = load_lookup_lists(lists).theme_departments
    rules = [r.model_dump(exclude_none=True) for r in KoeConfig().routing_rules(used)]
    routing = yaml.safe_dump({"routing": rules}, allow_unicode=True, sort_keys=False)
    config.write_text(CONFIG_HEAD.format(lists="lookup_lists") + routing, encoding="utf-8")
    return InitResult(config, lists, tuple(used))
