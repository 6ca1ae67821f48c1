"""The analysts' review decisions: who decided what about which tag, with undo (table
``review_decisions``). The next run learns from the active ones (koe.corrections)."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from koe.store.schema import (
    StoreState,
    cluster_names_table,
    list_edits_table,
    review_decisions_table,
    utcnow,
)

REVIEW_ACTIONS = ("confirm", "reject", "add", "polarity")
DECISION_COLUMNS = ("decision_id", "created_at", "author", "action", "comment_id",
                    "sentence_idx", "sentence", "theme", "polarity")  # fmt: skip
LIST_EDIT_COLUMNS = ("edit_id", "created_at", "author", "action", "theme", "detail", "path",
                     "before_text", "after_text", "undone_at")  # fmt: skip


class ReviewMixin(StoreState):
    """RunStore's review decisions. They are written at once, whatever ``deferred`` says:
    they come from an analyst, not from a run."""

    def add_decision(self, action: str, *, comment_id: str, sentence_idx: int, sentence: str,
                     theme: str, polarity: str | None = None, author: str = "") -> int:  # fmt: skip
        """Record a decision on the tag (comment, sentence, theme); returns its id.

        confirm: the tag is right; reject: it is wrong; add: the theme was missed here;
        polarity: the tag is right with this ``polarity``."""
        if action not in REVIEW_ACTIONS:
            raise ValueError(f"action {action!r} is not one of {REVIEW_ACTIONS}")
        if action == "polarity" and polarity not in ("positive", "neutral", "negative"):
            raise ValueError("a polarity decision needs positive, neutral or negative")
        row = {"created_at": utcnow(), "author": author, "action": action,
               "comment_id": comment_id, "sentence_idx": int(sentence_idx),
               "sentence": sentence, "theme": theme, "polarity": polarity}  # fmt: skip
        with self.engine.begin() as conn:
            result = conn.execute(review_decisions_table.insert().values(**row))
            return int(result.inserted_primary_key[0])

    def undo_decision(self, decision_id: int) -> bool:
        """Withdraw a decision; False when there is no active one with that id."""
        t = review_decisions_table
        with self.engine.begin() as conn:
            done = conn.execute(t.update().where(t.c.decision_id == decision_id,
                                                 t.c.undone_at.is_(None))
                                .values(undone_at=utcnow()))  # fmt: skip
        return done.rowcount == 1

    def decisions(self) -> pd.DataFrame:
        """The active decisions (``DECISION_COLUMNS``), oldest first."""
        t = review_decisions_table
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*(t.c[c] for c in DECISION_COLUMNS))
                                .where(t.c.undone_at.is_(None))
                                .order_by(t.c.decision_id)).all()  # fmt: skip
        return pd.DataFrame(rows, columns=list(DECISION_COLUMNS))

    def add_list_edit(self, action: str, *, theme: str, detail: str, path: str,
                      before_text: str, after_text: str, author: str = "") -> int:  # fmt: skip
        """Record a lookup-list edit already written to ``path``; returns its id."""
        row = {"created_at": utcnow(), "author": author, "action": action, "theme": theme,
               "detail": detail, "path": path, "before_text": before_text,
               "after_text": after_text}  # fmt: skip
        with self.engine.begin() as conn:
            return int(conn.execute(list_edits_table.insert().values(**row))
                       .inserted_primary_key[0])  # fmt: skip

    def mark_list_edit_undone(self, edit_id: int) -> None:
        t = list_edits_table
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.edit_id == edit_id).values(undone_at=utcnow()))

    def list_edits(self, include_undone: bool = False) -> pd.DataFrame:
        """The lookup-list edits (``LIST_EDIT_COLUMNS``), newest first."""
        t = list_edits_table
        query = sa.select(*(t.c[c] for c in LIST_EDIT_COLUMNS)).order_by(t.c.edit_id.desc())
        if not include_undone:
            query = query.where(t.c.undone_at.is_(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return pd.DataFrame(rows, columns=list(LIST_EDIT_COLUMNS))

    def name_cluster(self, cluster_id: str, label: str, author: str = "") -> None:
        """Give an emergent theme the analyst's name (an empty ``label`` removes it)."""
        t = cluster_names_table
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.cluster_id == cluster_id))
            if label.strip():
                conn.execute(t.insert().values(cluster_id=cluster_id, label=label.strip(),
                                               author=author, named_at=utcnow()))  # fmt: skip

    def cluster_names(self) -> dict[str, str]:
        """cluster_id -> the analyst's name."""
        t = cluster_names_table
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(t.c.cluster_id, t.c.label)).all())
