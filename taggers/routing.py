"""Department routing: which comments each department's file receives, and why.

Two sources, both data: every lookup tag routes its comment to the tag's department (from the
lookup lists), and routing rules (koe/default_routing.yaml or koe.yaml) add close-the-loop lists
such as detractors with a negative support theme -> support follow-up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import pandas as pd

from koe.config import RoutingRule

TAG_CONDITIONS = ("polarity", "department", "source", "is_request")


def _tag_matches(tag: dict, rule: RoutingRule) -> bool:
    cond = rule.when
    if cond.polarity is not None and tag["polarity"] not in cond.polarity:
        return False
    if cond.department is not None and tag["department"] not in cond.department:
        return False
    if cond.source is not None and tag["source"] not in cond.source:
        return False
    return cond.is_request is None or bool(tag["is_request"]) == cond.is_request


def route_comments(
    comments: pd.DataFrame,
    tags: pd.DataFrame,
    rules: Sequence[RoutingRule],
    *,
    departments: Iterable[str] = (),
    segments: Sequence[str] = (),
) -> dict[str, pd.DataFrame]:
    """Route comments to departments.

    Args:
        comments: CommentFrame; a boolean ``non_answer`` column, if present, keeps non-answers
            (特になし) out of rule-based routing.
        tags: TagFrame of the run (lookup and cluster tags).
        rules: routing rules.
        departments: departments that always get a file, even when empty.
        segments: segment columns to copy into the routed rows.

    Returns:
        {department: frame} with one row per routed comment, in input order:
        id, date, score, nps_class, customer_id, <segments>, text, themes, routed_by, evidence.
        ``themes`` lists "theme(polarity)" of all the comment's tags; ``routed_by`` names the
        rules and themes that sent it here; ``evidence`` the matched texts behind them.
    """
    tags_by_id: dict[str, list[dict]] = defaultdict(list)
    for tag in tags.to_dict("records"):
        tags_by_id[tag["id"]].append(tag)
    reasons: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    non_answer = (
        comments["non_answer"].astype(bool).tolist()
        if "non_answer" in comments
        else [False] * len(comments)
    )
    for cid, nps_class, skip in zip(comments["id"], comments["nps_class"], non_answer, strict=True):
        comment_tags = tags_by_id.get(cid, [])
        for tag in comment_tags:
            if tag["source"] == "lookup":
                reasons[tag["department"]][cid].append((f"theme:{tag['theme']}", tag["evidence"]))
        if skip:
            continue
        has_lookup = any(t["source"] == "lookup" for t in comment_tags)
        for rule in rules:
            cond = rule.when
            if cond.nps_class is not None and nps_class not in cond.nps_class:
                continue
            if cond.untagged is not None and cond.untagged == has_lookup:
                continue
            if any(getattr(cond, c) is not None for c in TAG_CONDITIONS):
                hits = [t for t in comment_tags if _tag_matches(t, rule)]
                if not hits:
                    continue
                evidence = " / ".join(dict.fromkeys(t["evidence"] for t in hits))
            else:
                evidence = ""
            reasons[rule.to][cid].append((f"rule:{rule.name}", evidence))
    theme_text = {
        cid: "; ".join(dict.fromkeys(f"{t['theme']}({t['polarity']})" for t in ts))
        for cid, ts in tags_by_id.items()
    }
    base_columns = ["id", "date", "score", "nps_class", "customer_id", *segments, "text"]
    base = comments.reindex(columns=base_columns)
    routed = {}
    for department in sorted(set(departments) | set(reasons)):
        by_comment = reasons.get(department, {})
        frame = base[base["id"].isin(list(by_comment))].copy()
        frame["themes"] = frame["id"].map(theme_text).fillna("")
        frame["routed_by"] = frame["id"].map(
            lambda cid, bc=by_comment: "; ".join(dict.fromkeys(r for r, _ in bc[cid]))
        )
        frame["evidence"] = frame["id"].map(
            lambda cid, bc=by_comment: " / ".join(dict.fromkeys(e for _, e in bc[cid] if e))
        )
        routed[department] = frame.reset_index(drop=True)
    return routed
