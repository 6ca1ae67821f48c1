"""Sentence splitting with character offsets (one comment often praises and complains at once)."""

from __future__ import annotations

import re

import pandas as pd

from koe.core.frames import SENTENCE_COLUMNS
from koe.taggers.tokenize import detect_language

# A sentence ends after 。．！？!? (and runs of them, plus closing brackets/emoji-free quotes),
# at a line break, or after an English period followed by whitespace (not "3.5" or "e.g.x").
_BOUNDARY = re.compile(r"[。．！？!?♪]+[」』）)\]]*|\n+|(?<=[A-Za-z\)])\.(?=\s)")


def split_text(text: str) -> list[tuple[int, int]]:
    """Return (start, end) character spans of the sentences of ``text``, whitespace-trimmed."""
    spans = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s and re.search(r"\w", text[s:e]):
            out.append((s, e))
        elif e > s and out:  # punctuation/emoji-only tail: attach to the previous sentence
            out[-1] = (out[-1][0], e)
    return out


def split_sentences(comments: pd.DataFrame) -> pd.DataFrame:
    """Split comments into sentences.

    Args:
        comments: a CommentFrame (needs ``id`` and ``text``).

    Returns:
        A SentenceFrame (see koe.core.frames): id, sentence_idx, sentence, start, end, lang.
        Comments without any word character produce no sentence.
    """
    rows = []
    for cid, text in zip(comments["id"], comments["text"], strict=True):
        for idx, (s, e) in enumerate(split_text(str(text))):
            sentence = text[s:e]
            rows.append((cid, idx, sentence, s, e, detect_language(sentence)))
    frame = pd.DataFrame(rows, columns=list(SENTENCE_COLUMNS))
    return frame.astype({"sentence_idx": "int64", "start": "int64", "end": "int64"})
