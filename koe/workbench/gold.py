"""The review gold file: every comment an analyst decided on, with its themes as decided.

A comment becomes gold once it has a decision. Its gold themes are the run's list-theme tags
on it (lookup, semantic, review) with the decisions applied in order: ``reject`` removes the
theme, ``add`` and ``confirm`` set it, ``polarity`` sets its polarity. Tags the analyst left
alone on a comment they reviewed count as right. A comment left with no theme gets one row
with an empty theme, so it still counts as evaluated.

Format: ``id,theme,polarity`` (koe eval's gold format). The file grows: comments of earlier
runs keep their rows. ``koe eval --gold review_gold.csv --pred tags.csv --comments
review_gold.csv`` scores a run on the reviewed comments only.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

GOLD_FILE = "review_gold.csv"
GOLD_COLUMNS = ("id", "theme", "polarity")


def gold_from_decisions(tags: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """Gold rows (``GOLD_COLUMNS``) of the comments in ``decisions``.

    Args:
        tags: the run's list-theme tags (id, theme, polarity).
        decisions: RunStore.decisions (oldest first).
    """
    decided = list(dict.fromkeys(decisions["comment_id"].astype(str)))
    current: dict[str, dict[str, str]] = {cid: {} for cid in decided}
    wanted = tags[tags["id"].isin(current)]
    for cid, theme, polarity in zip(wanted["id"], wanted["theme"], wanted["polarity"],
                                    strict=True):  # fmt: skip
        current[cid].setdefault(theme, polarity)
    for d in decisions.itertuples(index=False):
        themes = current[str(d.comment_id)]
        if d.action == "reject":
            themes.pop(d.theme, None)
        elif isinstance(d.polarity, str) and d.polarity:
            themes[d.theme] = d.polarity
        else:
            themes.setdefault(d.theme, "neutral")
    rows = [(cid, theme, polarity) for cid in decided
            for theme, polarity in sorted(current[cid].items())]  # fmt: skip
    rows += [(cid, "", "") for cid in decided if not current[cid]]
    return pd.DataFrame(rows, columns=list(GOLD_COLUMNS))


def write_gold(path: Path, gold: pd.DataFrame) -> int:
    """Merge ``gold`` into the gold file at ``path`` (its comments replace their old rows),
    atomically; returns the number of comments in the file."""
    if path.is_file():
        old = pd.read_csv(path, dtype=str, keep_default_na=False)
        gold = pd.concat([old[~old["id"].isin(set(gold["id"]))], gold], ignore_index=True)
    staged = path.with_name(f".{path.name}.koe-tmp")
    gold.to_csv(staged, index=False)
    os.replace(staged, path)
    return gold["id"].nunique()
