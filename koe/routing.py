"""Department routing: which comments each department's file receives, and why.

Two sources, both data: every lookup tag routes its comment to the tag's department (from the
lookup lists), and routing rules (koe/default_routing.yaml or koe.yaml) add close-the-loop lists
such as detractors with a negative support theme -> support follow-up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from koe.config import RoutingRule
from koe.core.frames import THEME_SOURCES

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
        id, date, score, nps_class, customer_id, <segments>, text, themes, routed_by, evidence,
        theme_names. ``themes`` lists "theme(polarity)" of all the comment's tags (ids),
        ``theme_names`` the same by the names a department reads (駐車場(negative));
        ``routed_by`` names the themes (``theme:<id>``), rules (``rule:<name>``) and, for
        rules on untagged comments, the emergent themes (``cluster:<id>``) that sent it here;
        ``evidence`` the matched texts behind them.
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
            if tag["source"] in THEME_SOURCES:
                reasons[tag["department"]][cid].append((f"theme:{tag['theme']}", tag["evidence"]))
        if skip:
            continue
        has_lookup = any(t["source"] in THEME_SOURCES for t in comment_tags)
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
            if cond.untagged:  # say which emergent theme the untagged sentences fell into
                for tag in comment_tags:
                    if tag["source"] == "cluster":
                        reasons[rule.to][cid].append((f"cluster:{tag['theme']}", tag["evidence"]))
    theme_text = {
        cid: "; ".join(dict.fromkeys(f"{t['theme']}({t['polarity']})" for t in ts))
        for cid, ts in tags_by_id.items()
    }
    theme_name_text = {
        cid: "; ".join(dict.fromkeys(f"{t.get('theme_name') or t['theme']}({t['polarity']})"
                                     for t in ts))
        for cid, ts in tags_by_id.items()
    }  # fmt: skip
    base_columns = ["id", "date", "score", "nps_class", "customer_id", *segments, "text"]
    base = comments.reindex(columns=base_columns)
    routed = {}
    for department in sorted(set(departments) | set(reasons)):
        by_comment = reasons.get(department, {})
        frame = base[base["id"].isin(list(by_comment))].copy()
        frame["themes"] = [theme_text.get(cid, "") for cid in frame["id"]]
        frame["routed_by"] = frame["id"].map(
            lambda cid, bc=by_comment: "; ".join(dict.fromkeys(r for r, _ in bc[cid]))
        )
        frame["evidence"] = frame["id"].map(
            lambda cid, bc=by_comment: " / ".join(dict.fromkeys(e for _, e in bc[cid] if e))
        )
        frame["theme_names"] = [theme_name_text.get(cid, "") for cid in frame["id"]]
        routed[department] = frame.reset_index(drop=True)
    return routed


def _nonempty(value: object) -> bool:
    return not (value is None or value is pd.NA or (isinstance(value, float) and value != value))


def follow_up_list(
    comments: pd.DataFrame,
    tags: pd.DataFrame,
    *,
    drivers: pd.DataFrame | None = None,
    segments: Sequence[str] = (),
    also: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Detractors to contact (close the loop): one row per detractor response.

    Non-answers (特になし) are included: a detractor who gave no reason is worth a call too.

    Args:
        comments: CommentFrame (with ``non_answer`` if known).
        tags: TagFrame of the run.
        drivers: drivers.csv frame; when given, a comment's negative themes are ordered by the
            theme's negative impact on the NPS (most harmful first), else by position.
        segments: segment columns to copy.
        also: more responses to contact, id -> why (e.g. "continuation: low", the journey's
            risk score); with it, a last column ``reason`` says why each row is there
            ("detractor", the given reason, or both joined by "; ").

    Returns:
        customer_id, id, date, score, nps_class, <segments>, main_negative_themes
        ("name (theme id)"; the comment's negative lookup themes), owner (department of the
        first of them, "" if none), evidence, text. Rows with a customer id first, then by
        score (lowest first), date (newest first) and id.
    """
    impact: dict[str, float] = {}
    if drivers is not None and not drivers.empty:
        neg = drivers[drivers["polarity"] == "negative"]
        impact = dict(zip(neg["theme"], neg["impact"].fillna(0.0), strict=True))
    negative = tags[tags["source"].isin(THEME_SOURCES) & (tags["polarity"] == "negative")]
    by_id: dict[str, list[dict]] = defaultdict(list)
    for tag in negative.sort_values(["id", "start"], kind="stable").to_dict("records"):
        by_id[tag["id"]].append(tag)
    columns = ["customer_id", "id", "date", "score", "nps_class", *segments, "text"]
    detractor = (comments["nps_class"] == "detractor").fillna(False).to_numpy(dtype=bool)
    extra = comments["id"].isin(set(also or {})).to_numpy()
    out = comments[detractor | extra].reindex(columns=columns).copy()
    themes, owners, evidence = [], [], []
    for cid in out["id"]:
        first_seen: dict[str, dict] = {}
        for tag in by_id.get(cid, []):
            first_seen.setdefault(tag["theme"], tag)
        order = sorted(first_seen, key=lambda t: impact.get(t, 0.0))  # stable: position on ties
        themes.append("; ".join(f"{first_seen[t]['theme_name']} ({t})" for t in order))
        owners.append(first_seen[order[0]]["department"] if order else "")
        evidence.append(" / ".join(dict.fromkeys(first_seen[t]["evidence"] for t in order)))
    out.insert(len(columns) - 1, "main_negative_themes", themes)
    out.insert(len(columns), "owner", owners)
    out.insert(len(columns) + 1, "evidence", evidence)
    out = out.assign(
        _no_contact=~out["customer_id"].map(_nonempty).astype(bool),
        _date=out["date"],
    )
    out = out.sort_values(
        ["_no_contact", "score", "_date", "id"],
        ascending=[True, True, False, True],
        na_position="last",
        kind="stable",
    )
    out = out.drop(columns=["_no_contact", "_date"]).reset_index(drop=True)
    if also is not None:
        why = {cid: "detractor" for cid in comments.loc[detractor, "id"]}
        for cid, reason in also.items():
            why[cid] = f"{why[cid]}; {reason}" if cid in why else reason
        out["reason"] = out["id"].map(why)
    return out


def thank_you_list(comments: pd.DataFrame) -> pd.DataFrame:
    """Everyone who answered with a comment gets a thank-you: one row per respondent.

    A respondent is a customer id; responses without one count as their own respondent.
    Quarantined rows are not here (they never became comments).

    Returns:
        customer_id, id (the respondent's latest response), responses (how many), date, score,
        nps_class (of the latest response), follow_up (any detractor response: the respondent
        is also on follow_up.csv), non_answer (the latest comment said nothing, e.g. 特になし),
        text (the latest comment). In order of each respondent's first response in the input.
    """
    frame = comments.reset_index(drop=True)
    has_customer = frame["customer_id"].map(_nonempty).astype(bool)
    key = frame["customer_id"].astype("string").where(has_customer, "\x00" + frame["id"])
    non_answer = frame["non_answer"] if "non_answer" in frame else pd.Series(False, frame.index)
    work = frame.assign(
        _key=key, _pos=range(len(frame)), non_answer=non_answer.astype(bool),
        _detractor=frame["nps_class"] == "detractor",
    )  # fmt: skip
    first_pos = work.groupby("_key", sort=False)["_pos"].min()
    latest = (
        work.sort_values(["date", "_pos"], na_position="first", kind="stable")
        .groupby("_key", sort=False)
        .tail(1)
        .set_index("_key")
    )
    grouped = work.groupby("_key", sort=False)
    out = pd.DataFrame(
        {
            "customer_id": latest["customer_id"],
            "id": latest["id"],
            "responses": grouped.size(),
            "date": latest["date"],
            "score": latest["score"],
            "nps_class": latest["nps_class"],
            "follow_up": grouped["_detractor"].any(),
            "non_answer": latest["non_answer"],
            "text": latest["text"],
        }
    )
    out = out.loc[first_pos.sort_values().index]
    return out.reset_index(drop=True)
