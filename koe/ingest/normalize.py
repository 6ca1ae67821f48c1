"""Text normalization for survey comments.

`normalize_text` is applied to every comment at ingest, so everything downstream (sentence
splitting, taggers, clustering) sees the same canonical text:

* Unicode NFKC: full-width ASCII becomes ASCII (ＡＰＩ -> API, ９ -> 9), half-width katakana becomes
  full-width, the ideographic space becomes a normal space, ① becomes 1.
* HTML remnants from web forms: block tags (<br>, <p>, <div>, <li>, ...) become newlines, other
  known tags are removed, entities are unescaped (&amp; -> &). Only known HTML tag names are
  treated as tags, so text such as 「価格<品質」 or 「<良い>」 is kept.
* Control characters other than newline are removed (NUL, C0/C1 controls, lone surrogates,
  zero-width spaces, BOMs, bidi controls). ZWJ and variation selectors are kept: they are part of
  emoji sequences.
* Line breaks are unified to \\n; runs of spaces/tabs become one space; each line is stripped;
  3+ newlines become 2; the result is stripped.

Emoji are kept. Normalization is not guaranteed to be idempotent for escaped markup
("&amp;lt;br&amp;gt;" unescapes one level per call); it is idempotent for ordinary text.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["NON_ANSWERS", "has_content", "is_meaningful", "is_non_answer", "normalize_text"]

# Line separators other than \n (\r\n is handled first so it becomes a single \n).
_LINE_BREAKS_RE = re.compile("\r\n|[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")

# Invisible format characters that carry no meaning in a survey comment. ZWJ (U+200D), ZWNJ
# (U+200C) and tag characters are kept because emoji sequences use them.
_INVISIBLE_RE = re.compile(
    "[\u00ad\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)

# Control characters (C0 and C1) except \n, plus lone surrogates (invalid in UTF-8 text).
_CONTROL_RE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

_BLOCK_TAGS = (
    "br|p|div|li|ul|ol|tr|table|tbody|thead|tfoot|h[1-6]|hr|blockquote|pre|dd|dt|dl|section|"
    "article|header|footer"
)
_INLINE_TAGS = (
    "a|abbr|b|big|center|code|em|font|i|img|ins|del|s|small|span|strike|strong|sub|sup|td|th|"
    "tt|u|mark|o:p"
)
_BLOCK_TAG_RE = re.compile(rf"<\s*/?\s*(?:{_BLOCK_TAGS})\b[^<>]*>", re.IGNORECASE)
_INLINE_TAG_RE = re.compile(rf"<\s*/?\s*(?:{_INLINE_TAGS})\b[^<>]*>", re.IGNORECASE)
_HTML_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)

_SPACES_RE = re.compile(r"[^\S\n]+")
_MANY_NEWLINES_RE = re.compile(r"\n{3,}")


def _clean_chars(text: str) -> str:
    """Unify line breaks and remove control and invisible characters."""
    text = _LINE_BREAKS_RE.sub("\n", text)
    text = text.replace("\t", " ")
    text = _INVISIBLE_RE.sub("", text)
    return _CONTROL_RE.sub("", text)


def normalize_text(text: str) -> str:
    """Normalize one comment (NFKC, HTML remnants, control characters, whitespace).

    Args:
        text: The raw comment.

    Returns:
        The normalized comment; "" when nothing but whitespace/control characters remains.
    """
    text = _clean_chars(text)
    text = unicodedata.normalize("NFKC", text)
    text = _HTML_COMMENT_RE.sub("", text)
    text = _BLOCK_TAG_RE.sub("\n", text)
    text = _INLINE_TAG_RE.sub("", text)
    if "&" in text:
        # Entities can produce control characters (&#0;), non-NFKC characters (&nbsp;) or \r.
        text = unicodedata.normalize("NFKC", _clean_chars(html.unescape(text)))
    text = _SPACES_RE.sub(" ", text)
    text = "\n".join(line.strip(" ") for line in text.split("\n"))
    text = _MANY_NEWLINES_RE.sub("\n\n", text)
    return text.strip()


def has_content(normalized: str) -> bool:
    """Return True if an already-normalized text has a letter or a digit (Unicode L* or N*)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in normalized)


def is_meaningful(text: str) -> bool:
    """Return True if the text has at least one letter, digit, kana or kanji.

    Empty text, whitespace, punctuation only (「。。。」, "!!!") and emoji/symbols only (「👍👍」)
    are not meaningful.

    Args:
        text: The raw or normalized comment.

    Returns:
        Whether the normalized text contains a Unicode letter (L*) or number (N*).
    """
    return has_content(normalize_text(text))


# Normalized (NFKC, lower-case, no trailing 。.! or spaces) answers that mean "nothing to say".
# fmt: off
NON_ANSWERS: frozenset[str] = frozenset({
    # Japanese
    "特になし", "とくになし", "特に無し", "トクニナシ",
    "特にない", "とくにない", "特に無い", "特にないです", "特に無いです", "とくにないです",
    "特にありません", "とくにありません", "特に有りません", "特にございません",
    "特には無い", "特にはない", "特にはありません", "特になしです", "特に無しです",
    "なし", "無し", "ナシ", "なしです", "無しです", "ない", "無い", "ないです", "無いです",
    "ありません", "ございません", "なにもない", "何もない", "何も無い", "何もありません",
    "なにもありません", "特に何もない", "特に何もありません", "特に意見なし", "意見なし",
    "特にコメントなし", "コメントなし", "特に思いつかない", "思いつかない", "思い当たらない",
    "無回答", "回答なし", "該当なし", "記入なし", "未記入",
    # English
    "none", "n/a", "na", "nothing", "no comment", "no comments", "nil", "no", "nope",
    "nothing to add", "nothing in particular", "not applicable",
    # Placeholders typed into a required field
    "-", "--", "---", "ー", "ーー", "―", "x", "xx", "xxx",
})
# fmt: on
_NON_ANSWERS_COMPACT = frozenset(answer.replace(" ", "") for answer in NON_ANSWERS)
_TRAILING_RE = re.compile(r"[。.!\s]+$")


def is_non_answer(text: str) -> bool:
    """Return True if the comment is a non-answer such as 「特になし」, "N/A" or "-".

    Non-answers are valid answers (they are not quarantined); downstream they get no tags and are
    counted as non-answers. The comparison uses the normalized, lower-cased text without trailing
    「。」, ".", "!" and spaces, with or without inner spaces (「特に なし」 matches).

    Args:
        text: The raw or normalized comment.

    Returns:
        Whether the comment is in NON_ANSWERS.
    """
    key = _TRAILING_RE.sub("", normalize_text(text).lower())
    if not key:
        return False
    return key in NON_ANSWERS or key.replace(" ", "").replace("\n", "") in _NON_ANSWERS_COMPACT
