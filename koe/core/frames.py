"""Column contracts of the DataFrames that flow between koe's stages.

Every stage is a plain function from one documented frame to another. Column names are English
snake_case even when the data is Japanese. Stages never modify their input frame.

CommentFrame (ingest -> normalize -> everything downstream), one row per accepted comment:
    id            str     respondent/comment id, unique within a run
    text          str     the comment, normalized (NFKC, whitespace, HTML: see koe.ingest.normalize)
    score         Int64   0-10 "how likely are you to recommend us"
    nps_class     str     promoter (9-10) | passive (7-8) | detractor (0-6)
    date          datetime64[ns] or NaT
    customer_id   str or <NA>
    source_row    int     1-based data row number in the input file (header excluded)
    <sub-score>   float   optional sub-score columns named in the config (e.g. sub_speed)
    <segment>     str     optional segment columns (plan, company_size, role, ...)

QuarantineFrame, one row per input row that could not be accepted:
    source_row    int     1-based data row number in the input file
    id            str or <NA>
    reason        str     machine-readable reason code (e.g. empty_text, score_out_of_range)
    detail        str     human-readable explanation
    text          str or <NA>   the raw text, for the analyst

SentenceFrame (split_sentences), one row per sentence:
    id            str     comment id
    sentence_idx  int     0-based position in the comment
    sentence      str     sentence text
    start, end    int     character offsets of the sentence in the comment text
    lang          str     "ja" or "en"

TagFrame (lookup, semantic and cluster taggers), one row per mention (comment x sentence x theme):
    id            str     comment id
    sentence_idx  int
    theme         str     theme id (lookup) or emergent theme id (cluster)
    theme_name    str     display name
    parent        str     parent theme id ("" for top-level themes)
    department    str
    polarity      str     positive | negative | neutral
    is_request    bool    the mention is a request (~してほしい, wish), not a complaint
    source        str     lookup | semantic | review (an analyst's decision) | cluster
    evidence      str     matched surface text (lookup), the nearest supporting example
                          (semantic), or the sentence (cluster)
    start, end    int     character offsets of the evidence in the comment text (semantic and
                          cluster: of the sentence)
    confidence    float   1.0 for lookup; the semantic layer's probability; the similarity to
                          the cluster's centroid
"""

from __future__ import annotations

NPS_CLASSES = ("promoter", "passive", "detractor")
POLARITIES = ("positive", "negative", "neutral")

COMMENT_COLUMNS = ("id", "text", "score", "nps_class", "date", "customer_id", "source_row")
QUARANTINE_COLUMNS = ("source_row", "id", "reason", "detail", "text")
SENTENCE_COLUMNS = ("id", "sentence_idx", "sentence", "start", "end", "lang")
TAG_COLUMNS = (
    "id",
    "sentence_idx",
    "theme",
    "theme_name",
    "parent",
    "department",
    "polarity",
    "is_request",
    "source",
    "evidence",
    "start",
    "end",
    "confidence",
)
# Sources of theme tags (from the lists: keywords, or the semantic layer over them); "cluster"
# tags are emergent themes.
THEME_SOURCES = ("lookup", "semantic", "review")  # review: an analyst added it
# The tags.csv contract (koe tag / koe run): one row per (comment, theme).
TAGS_CSV_COLUMNS = ("id", "theme", "department", "polarity", "source", "evidence")


# The NPS classes of a 0-10 score, defined once: promoters 9-10, passives 7-8, detractors 0-6.
PROMOTER_MIN = 9
DETRACTOR_MAX = 6


def nps_class(score: int) -> str:
    """Return the NPS class of a 0-10 score."""
    if score >= PROMOTER_MIN:
        return "promoter"
    if score > DETRACTOR_MAX:
        return "passive"
    return "detractor"
