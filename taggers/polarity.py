"""Per-mention polarity with negation and request detection.

The polarity of a theme mention comes from the clause around it, not the whole comment:
「説明は丁寧だが、返信が遅い」 has two clauses split at the contrastive が. Within the clause,
sentiment words from the lexicon (lookup_lists/polarity.yaml, matched on the same normalized
forms as keywords) are summed; a negator right after a Japanese sentiment word (遅くない,
不満はない, 問題ありません, 問題なし) or right before an English one (not slow, no complaints)
flips it. A request (〜してほしい, 〜があれば, wish) marks the mention as a request: positive
words inside a request are hypothetical and ignored, so a feature request is not a complaint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from koe.taggers.lookup_lists import _LINE, POLARITY_FILE, LookupListError, load_yaml_with_lines
from koe.taggers.tokenize import Token, tokenize

# Contrastive conjunctive particles / conjunctions that start a new clause.
CLAUSE_PARTICLES = frozenset({"が", "けど", "けれど", "けれども", "ものの", "のに", "し"})
CLAUSE_CONJUNCTIONS = frozenset(
    {"しかし", "でも", "ただ", "ですが", "だが", "けれども", "ところが", "一方", "but", "however",
     "although", "though", "yet", "whereas"}
)  # fmt: skip
# Tokens that may sit between a Japanese sentiment word and its negator: 遅くはない, 問題ありません.
# 遅いと感じたことはない / 遅いと思ったことはありません reach their negator through these too.
NEGATION_BRIDGE = frozenset(
    {"は", "も", "が", "で", "だ", "です", "ます", "有る", "て", "に", "じゃ", "と",
     "感じる", "思う", "た", "こと", "事", "訳", "気", "為る",
     # degree adverbs that go with a negation: 止まることがほとんどない, 待つことはあまりない
     "殆ど", "余り", "全く", "全然", "滅多", "一度", "然程", "大して", "特に", "別に",
     # and those of a decrease: 作業時間が大幅に減った, ミスがぐっと少なくなった
     "大幅", "格段", "劇的", "随分", "大分", "可成", "相当", "ぐっ", "一気", "更に", "ほぼ"}
)  # fmt: skip
BUILTIN_NEGATORS_JA = frozenset({"ない", "無い", "ず", "ぬ", "なし", "無し"})
BUILTIN_NEGATORS_EN = frozenset({"not", "no", "never", "n't", "without", "hardly", "nothing"})
REQUEST_POLARITIES = ("neutral", "negative")

Pattern = tuple[str, ...]


@dataclass(frozen=True)
class PolarityLexicon:
    """Sentiment words and markers as normalized-token patterns."""

    positive: tuple[Pattern, ...]
    negative: tuple[Pattern, ...]
    negators: frozenset[str]
    request_markers: tuple[Pattern, ...]
    replace_builtin: bool = False  # a folder's file that replaces koe's lexicon (for_folder)
    # what a request without a complaint in it reads as: "neutral" (a wish is not a complaint)
    # or "negative" (a request implies a shortfall, as some labelling conventions have it)
    request_polarity: str = "neutral"

    @cached_property
    def positive_index(self) -> dict[str, tuple[Pattern, ...]]:
        return _by_first(self.positive)

    @cached_property
    def negative_index(self) -> dict[str, tuple[Pattern, ...]]:
        return _by_first(self.negative)

    @cached_property
    def request_index(self) -> dict[str, tuple[Pattern, ...]]:
        return _by_first(self.request_markers)

    @cached_property
    def single_words(self) -> frozenset[str]:
        """Sentiment words of one token (either polarity)."""
        return frozenset(p[0] for p in (*self.positive, *self.negative) if len(p) == 1)

    def with_words(self, positive: Sequence[str], negative: Sequence[str]) -> PolarityLexicon:
        """This lexicon with ``positive`` / ``negative`` words set to that polarity (taken out
        of the other list): a theme's aspect-dependent words (``polarity_words``)."""
        pos = tuple(dict.fromkeys(p for p in map(pattern_of, positive) if p))
        neg = tuple(dict.fromkeys(p for p in map(pattern_of, negative) if p))
        return self._with_patterns(pos, neg)

    def _with_patterns(self, pos: Sequence[Pattern], neg: Sequence[Pattern]) -> PolarityLexicon:
        return replace(
            self,
            positive=tuple(dict.fromkeys(p for p in (*self.positive, *pos) if p not in neg)),
            negative=tuple(dict.fromkeys(p for p in (*self.negative, *neg) if p not in pos)),
        )

    @classmethod
    def for_folder(cls, folder: str | Path) -> PolarityLexicon:
        """The lexicon of a lookup-list folder: koe's built-in polarity.yaml, extended by the
        folder's own polarity.yaml when it has one — its positive / negative words are added
        (a word listed under the other polarity moves), its negators and request markers are
        added, its ``request_polarity`` holds — or replaced by it when that file says
        ``replace_builtin: true``."""
        from koe.core.resources import resource_path

        own = Path(folder) / POLARITY_FILE
        builtin = Path(resource_path("koe.lookup_lists")) / POLARITY_FILE
        if not own.is_file() or own.resolve() == builtin.resolve():
            return cls.from_yaml(builtin)
        mine = cls.from_yaml(own)
        if mine.replace_builtin:
            return mine
        merged = cls.from_yaml(builtin)._with_patterns(mine.positive, mine.negative)
        return replace(
            merged,
            negators=merged.negators | mine.negators,
            request_markers=tuple(dict.fromkeys((*merged.request_markers,
                                                 *mine.request_markers))),
            request_polarity=mine.request_polarity,
        )  # fmt: skip

    @classmethod
    def from_yaml(cls, path: str | Path) -> PolarityLexicon:
        """Load lookup_lists/polarity.yaml (keys: positive, negative, negators, request_markers,
        request_polarity)."""
        path = Path(path)
        if not path.is_file():
            raise LookupListError(
                f"{path}: polarity lexicon not found; a lookup-list folder needs one "
                "(copy lookup_lists/polarity.yaml from koe)"
            )
        doc = load_yaml_with_lines(path)
        if not isinstance(doc, dict):
            raise LookupListError(f"{path}: expected a mapping with positive/negative lists")
        allowed = {"version", "positive", "negative", "negators", "neutralizers", "request_markers",
                   "replace_builtin", "request_polarity"}
        unknown = sorted(set(doc) - allowed - {_LINE})
        if unknown:
            raise LookupListError(f"{path}:{doc.get(_LINE, 1)}: unknown field(s) {unknown}")

        def patterns(key: str) -> tuple[Pattern, ...]:
            values = doc.get(key) or []
            if not isinstance(values, list):
                raise LookupListError(f"{path}: {key} must be a list")
            out = []
            for value in values:
                if isinstance(value, bool):
                    raise LookupListError(
                        f"{path}: {key}: YAML read an unquoted yes/no/on/off as {value}; "
                        "quote it, e.g. 'no'"
                    )
                text = str(value).strip()
                if not text:
                    raise LookupListError(f"{path}: empty entry in {key}")
                out.append(pattern_of(text))
            return tuple(dict.fromkeys(p for p in out if p))

        request_polarity = doc.get("request_polarity", "neutral")
        if request_polarity not in REQUEST_POLARITIES:
            raise LookupListError(
                f"{path}: request_polarity must be one of {list(REQUEST_POLARITIES)}, "
                f"got {request_polarity!r}"
            )
        negators = {t for p in patterns("negators") for t in p}
        return cls(
            positive=patterns("positive"),
            negative=patterns("negative"),
            negators=frozenset(negators | BUILTIN_NEGATORS_JA | BUILTIN_NEGATORS_EN),
            request_markers=patterns("request_markers"),
            replace_builtin=doc.get("replace_builtin") is True,
            request_polarity=request_polarity,
        )


def pattern_of(text: str, tokenizer: Callable[[str], list[Token]] | None = None) -> Pattern:
    """Normalized token pattern of a lexicon entry or keyword (spaces separate nothing special)."""
    tokens = (tokenizer or tokenize)(text.replace(" ", ""))
    if not tokens or (text.isascii() and " " in text):
        tokens = (tokenizer or tokenize)(text)
    return tuple(t.norm for t in tokens if t.pos not in ("補助記号", "PUNCT"))


def _ends_condition(tokens: Sequence[Token], i: int) -> bool:
    """Does token i end a conditional or concessive clause (あれば, 困ったら, 遅くても, 困った時に)?

    Sentiment there is hypothetical for the main clause:
    「分からないことがあれば丁寧に教えてくれる」 praises the explanations.
    """
    tok = tokens[i]
    if tok.pos2 == "接続助詞" and tok.norm == "ば":
        return True
    if tok.pos == "助動詞" and tok.surface in ("たら", "だら", "なら"):
        return True
    prev = tokens[i - 1] if i else None
    if prev is None or tok.pos != "助詞" or tok.norm not in ("も", "に", "は"):
        return False
    if tok.norm == "も" and prev.pos2 == "接続助詞" and prev.norm == "て":
        return True
    return prev.norm == "時" and prev.pos == "名詞"


def clause_bounds(tokens: Sequence[Token]) -> list[tuple[int, int, bool]]:
    """Clauses of a sentence as token ranges [start, end) plus ``hard``: whether the clause ends
    at a contrastive boundary (が, けど, しかし, but). Other boundaries (し, あれば, 時に, ても)
    are soft: an evaluation later in the sentence may still be about this clause's topic.
    """
    bounds = []
    start = 0
    for i, tok in enumerate(tokens):
        if tok.pos2 == "接続助詞" and tok.norm in CLAUSE_PARTICLES:
            bounds.append((start, i + 1, tok.norm != "し"))
            start = i + 1
        elif _ends_condition(tokens, i):
            bounds.append((start, i + 1, False))
            start = i + 1
        elif tok.norm in CLAUSE_CONJUNCTIONS and i > start:
            bounds.append((start, i, True))
            start = i
        elif tok.norm == ";" and i > start:
            bounds.append((start, i + 1, True))
            start = i + 1
    bounds.append((start, len(tokens), True))
    return [(s, e, hard) for s, e, hard in bounds if e > s]


def _by_first(patterns: Sequence[Pattern]) -> dict[str, tuple[Pattern, ...]]:
    """Patterns indexed by their first token."""
    index: dict[str, list[Pattern]] = {}
    for p in patterns:
        index.setdefault(p[0], []).append(p)
        if len(p) > 1 and p[-1] == "無い":  # 申し分ない is also 申し分ありません
            index[p[0]].append((*p[:-1], "有る", "ます", "ず"))
    return {first: tuple(ps) for first, ps in index.items()}


def _find(tokens: Sequence[Token], by_first: dict[str, tuple[Pattern, ...]], lo: int, hi: int):
    """Yield (start, end, pattern) of non-overlapping longest matches in tokens[lo:hi]."""
    norms = [t.norm for t in tokens]
    i = lo
    while i < hi:
        best = None
        for p in by_first.get(norms[i], ()):
            if i + len(p) <= hi and tuple(norms[i : i + len(p)]) == p:
                if best is None or len(p) > len(best):
                    best = p
        if best:
            yield i, i + len(best), best
            i += len(best)
        else:
            i += 1


def _negated(
    tokens: Sequence[Token], start: int, end: int, lo: int, hi: int, neg: frozenset
) -> bool:
    """Is the sentiment word tokens[start:end] negated within its clause [lo, hi)?"""
    if tokens[start].pos in ("X", "AUX", "PART", "PUNCT"):  # English: look back 3 tokens
        return any(tokens[j].norm in neg for j in range(max(lo, start - 3), start))
    # an experience denied reaches back over its whole clause: 不具合に遭遇したことがない,
    # 難しいと感じたことは特にない
    experience = next((k for k in range(end, min(hi - 1, end + 6))
                       if tokens[k].norm == "た" and tokens[k + 1].norm in ("こと", "事")), None)
    if experience is not None:
        end = experience
    for j in range(end, min(hi, end + 8)):
        norm = tokens[j].norm
        if norm in neg:
            return True
        if norm not in NEGATION_BRIDGE and not _quantity(tokens[j]):
            return False
    return False


QUANTITY_WORDS = frozenset({"位", "くらい", "ぐらい", "程", "ほど", "約", "凡そ", "以上", "以下",
                            "割", "%", "月", "年", "日", "週", "時間", "分", "回", "件", "人",
                            "円"})  # fmt: skip


def _quantity(token: Token) -> bool:
    """A number or its counter, between a cost word and 減る: 工数が月20時間くらい減った."""
    return token.norm in QUANTITY_WORDS or _is_number(token)


def _is_number(token: Token) -> bool:
    """20, 1,000, 二十 (Sudachi's normalized form is 20; its part of speech 名詞-数詞)."""
    return token.norm.replace(",", "").isdigit() or token.pos2 == "数詞"


@dataclass(frozen=True)
class MentionPolarity:
    polarity: str
    is_request: bool
    score: int
    found: bool = True  # False: no sentiment word in reach; polarity is the theme default
    scope: tuple[int, int] = (0, 0)  # token range the polarity was read from


def mention_polarity(
    tokens: Sequence[Token],
    span: tuple[int, int],
    lexicon: PolarityLexicon,
    default: str = "neutral",
) -> MentionPolarity:
    """Polarity of a mention covering token indices ``span`` = [start, end).

    Args:
        tokens: the sentence's tokens.
        span: the mention's token range.
        lexicon: the polarity lexicon.
        default: the theme's polarity when its clause carries no sentiment.
    """
    clauses = clause_bounds(tokens)
    here = next((i for i, (s, e, _) in enumerate(clauses) if s <= span[0] < e), 0)
    score, found, is_request = _clause_score(tokens, clauses[here][0], clauses[here][1], lexicon)
    # Japanese evaluates at the end: 「請求書の変更をお願いしたら、すぐに対応してもらえた」.
    # A clause without sentiment takes the next one's, unless a contrastive boundary intervenes.
    i = here
    while not found and not clauses[i][2] and i + 1 < len(clauses):
        i += 1
        # the joined span, so a marker across the boundary (あれば|嬉しい) is still a request
        score, found, is_request = _clause_score(tokens, clauses[here][0], clauses[i][1], lexicon)
    polarity_name = _polarity_of(score, found, is_request, lexicon, default)
    return MentionPolarity(
        polarity_name, is_request, score, found, (clauses[here][0], clauses[i][1])
    )


def _polarity_of(
    score: int, found: bool, is_request: bool, lexicon: PolarityLexicon, default: str
) -> str:
    """The polarity a clause score reads as; ``default`` where no sentiment was found."""
    if score > 0:
        return "positive"
    if score < 0:
        return "negative"
    if is_request:  # a wish without a complaint in it, whatever the theme's default
        return lexicon.request_polarity
    return "neutral" if found else default


def sentence_polarity(tokens: Sequence[Token], lexicon: PolarityLexicon) -> MentionPolarity:
    """Polarity of a whole sentence (all clauses), e.g. 「遅すぎる。」 after the mention."""
    score, found, is_request = _clause_score(tokens, 0, len(tokens), lexicon)
    polarity = _polarity_of(score, found, is_request, lexicon, "neutral")
    return MentionPolarity(polarity, is_request, score, found)


def request_span(tokens: Sequence[Token], lexicon: PolarityLexicon) -> tuple[int, int] | None:
    """Token range of the sentence's first request (〜してほしい, あるとよい, wish), or None."""
    requests, _ = _requests(tokens, 0, len(tokens), lexicon)
    return requests[0] if requests else None


RECOMMEND_VERBS = frozenset({"勧める", "薦める", "紹介", "推薦", "推奨", "御勧め"})
REVISIT_VERBS = frozenset({"来る", "行く", "訪れる", "訪ねる", "伺う", "寄る", "泊まる", "利用",
                           "参加", "巡る", "遊ぶ", "訪問", "来訪", "リピート"})  # fmt: skip
REVISIT_ADVERBS = frozenset({"又", "再び", "再度", "是非", "今度", "次回", "一度"})


def _is_intent(tokens: Sequence[Token], lo: int, marker: int) -> bool:
    """Is the request marker at ``marker`` a たい of coming back or recommending: 友人にも勧めた
    い, 紹介したい, また来たい, 是非もう一度訪れたい, また巡ってみたい (not 詳しく知りたい)?"""
    if tokens[marker].norm != "たい" or marker == 0:
        return False
    k = marker - 1
    if tokens[k].norm == "見る" and k >= 2 and tokens[k - 1].norm in BENEFACTIVE_LINKS:
        k -= 2  # 〜てみたい
    elif tokens[k].norm == "為る" and k >= 1:
        k -= 1  # 紹介したい, 利用したい
    verb = tokens[k].norm
    if verb in RECOMMEND_VERBS:
        return True
    return verb in REVISIT_VERBS and any(t.norm in REVISIT_ADVERBS for t in tokens[lo:k])


def _attributive(tokens: Sequence[Token], start: int, end: int) -> bool:
    """欲しい / たい describing a noun, not asking for anything: 欲しいものを探せた,
    見たいものがたくさんあった, 欲しかった商品が買えた (but 〜てほしい asks even before a noun:
    改善してほしい点は…)."""
    if end - start != 1 or tokens[start].norm not in ("欲しい", "たい"):
        return False
    link = tokens[start - 1] if start else None
    if tokens[start].norm == "欲しい" and link and link.pos2 == "接続助詞":
        return False  # 〜て / 〜でほしい (not 祭りで欲しいものを)
    after = end + (end < len(tokens) and tokens[end].norm == "た")
    return after < len(tokens) and tokens[after].pos == "名詞"


def _honorific_kudasaru(tokens: Sequence[Token], start: int, end: int) -> bool:
    """下さる as an honorific (教えてくださり, くださった), not a request (下さい)."""
    return end - start == 1 and tokens[start].norm == "下さる" and tokens[start].surface not in (
        "ください", "下さい", "くださいませ"
    )  # fmt: skip


def _requests(
    tokens: Sequence[Token], lo: int, hi: int, lexicon: PolarityLexicon
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Token ranges of the requests in tokens[lo:hi], in order — the lexicon's markers (not an
    honorific くださる, not ほしい / たい before a noun) and wishes (増えるとよい, see
    :func:`_wishes`) — and of the markers that are intents instead (また来たい, 勧めたい)."""
    markers = [
        (s, e) for s, e, _ in _find(tokens, lexicon.request_index, lo, hi)
        if not _honorific_kudasaru(tokens, s, e) and not _attributive(tokens, s, e)
    ]  # fmt: skip
    intents = [(s, e) for s, e in markers if _is_intent(tokens, lo, s)]
    wishes = [(s, e) for s, e in _wishes(tokens, lexicon.negators) if s < hi and e > lo]
    return sorted({*markers, *wishes} - set(intents)), intents


WISH_WORDS = frozenset({"良い", "嬉しい", "助かる", "有り難い", "幸い", "便利"})
WISH_ENDINGS = frozenset({"と", "思う", "感じる", "考える", "の", "ん"})


def _wishes(tokens: Sequence[Token], negators: frozenset[str]) -> list[tuple[int, int]]:
    """Desiderative wishes in a sentence: a condition, then a wish word that ends its clause —
    飲食店が増えるとよい, あるとなお嬉しい, あってもいい, 増えてくれたら嬉しい, あれば良かった,
    分かりやすいと嬉しい. Ranges from the condition's last token to the wish word. A condition
    ends a clause (:func:`clause_bounds`), so a wish belongs to the clauses on both sides:
    「休憩できるスペースがあっても」 is a request with 「いいと思います」."""
    out = []
    for j, tok in enumerate(tokens):
        if tok.norm not in WISH_WORDS or not _ends_clause_after(tokens, j, negators):
            continue
        k = j - 1
        while k >= 0 and tokens[k].pos == "副詞" and tokens[k].norm != "出来れば":
            k -= 1  # a degree adverb between: あるとなお嬉しい, 増えるともっと便利
        if k >= 0 and _is_wish_condition(tokens, k):
            out.append((k, j + 1))
    return out


def _is_wish_condition(tokens: Sequence[Token], k: int) -> bool:
    """Does token k end the condition of a wish: ば, たら, ても (:func:`_ends_condition`, not
    時に), と after a predicate (増えると, 分かりやすいと), or the adverb できれば?"""
    tok = tokens[k]
    if tok.norm == "出来れば" or (_ends_condition(tokens, k) and tok.norm not in ("に", "は")):
        return True
    if tok.pos != "助詞" or tok.norm != "と" or k == 0:
        return False
    before = tokens[k - 1]
    return before.pos in ("動詞", "形容詞", "助動詞") or before.pos2 == "形容詞的"


def _ends_clause_after(tokens: Sequence[Token], j: int, negators: frozenset[str]) -> bool:
    """Only endings follow token j up to its clause's end: です, ね, と思います (not a negation)."""
    for tok in tokens[j + 1 :]:
        if _is_clause_end(tok):
            return True
        if tok.norm in negators:
            return False
        if tok.pos != "助動詞" and tok.pos2 != "終助詞" and tok.norm not in WISH_ENDINGS:
            return False
    return True


def _clause_score(
    tokens: Sequence[Token], lo: int, hi: int, lexicon: PolarityLexicon
) -> tuple[int, bool, bool]:
    """(sentiment score, any sentiment found, is a request) of the clause tokens[lo:hi]."""
    requests, intents = _requests(tokens, lo, hi, lexicon)
    first_request = requests[0][0] if requests else hi
    score = 0
    found = False
    for s, e in intents if not requests else []:
        # また来たい, 友人にも勧めたい: the wish to come back or to recommend is praise
        score += -1 if _negated(tokens, s, e, lo, hi, lexicon.negators) else 1
        found = True
    covered: set[int] = set()
    praise: list[tuple[int, int]] = []
    for polarity, patterns in ((1, lexicon.positive_index), (-1, lexicon.negative_index)):
        for s, e, _ in _find(tokens, patterns, lo, hi):
            covered.update(range(s, e))
            value = -polarity if _negated(tokens, s, e, lo, hi, lexicon.negators) else polarity
            if requests and (s >= first_request or value > 0):
                continue  # hypothetical: 「もっと早くしてほしい」「あれば嬉しい」
            score += value
            found = True
            if value > 0:
                praise.append((s, e))
    if not requests:
        for i in _benefactives(tokens, lo, hi, covered):
            score += -1 if _negated(tokens, i, i + 1, lo, hi, lexicon.negators) else 1
            found = True
    excess = _excess(tokens, lo, hi, lexicon) if not requests else []
    if excess:  # 多すぎる, 長すぎて, too basic: more than wanted is a complaint
        score -= len(excess)
        found = True
    lacking = _scarcities(tokens, lo, hi, covered, lexicon)
    if lacking:  # バスの本数が少ない, 飲食店が少ない: too few of a thing is a shortfall
        # praise inside what is lacking is not praise: おしゃれなお店が少ない
        score -= len(lacking) + sum(any(a <= s and e <= b for a, b in lacking) for s, e in praise)
        found = True
    for i in _timed_waits(tokens, lo, hi, covered) if not requests else []:
        # a wait that is counted in days or hours outweighs a mild word beside it
        # ("waited 5 days for a reply to a simple question"); 待たずに: no wait, praise
        score += 1 if _negated(tokens, i, i + 1, lo, hi, lexicon.negators) else -2
        found = True
    return score, found, bool(requests)


SCARCITY_WORDS = frozenset({"少ない", "乏しい"})
SCARCITY_STOPS = frozenset({"が", "は", "を", "も", "で", "に", "へ", "から", "まで"})


def _scarcities(
    tokens: Sequence[Token], lo: int, hi: int, covered: set[int], lexicon: PolarityLexicon
) -> list[tuple[int, int]]:
    """The noun phrases (token ranges) that 少ない / 乏しい say are too few, when the thing is
    not itself a complaint: 本数が少ない, 飲食店少ない, 情報がやや少なかった, おしゃれなお店が
    少ない (the whole phrase; not ミスが少ない, a negated complaint; not 少なくない).
    Where fewer is better (人が少ない for crowding), a theme's ``polarity_words`` list 少ない as
    positive; a sentiment word is never read again here."""
    out = []
    for i in range(lo, hi):
        if tokens[i].norm not in SCARCITY_WORDS or i in covered:
            continue
        j = i - 1
        while j >= lo and (tokens[j].pos == "副詞" or tokens[j].norm in ("が", "は", "も")):
            j -= 1
        if j < lo or j in covered or tokens[j].pos not in ("名詞", "接尾辞"):
            continue
        if _negated(tokens, i, i + 1, lo, hi, lexicon.negators):
            continue
        start = j
        while start > lo and not _ends_noun_phrase(tokens[start - 1]):
            start -= 1
        out.append((start, j + 1))
    return out


def _ends_noun_phrase(token: Token) -> bool:
    """Does a token end what comes before a noun phrase (a case particle, a clause's end)?"""
    return _is_clause_end(token) or (token.pos == "助詞" and token.norm in SCARCITY_STOPS)


def _is_clause_end(token: Token) -> bool:
    """A punctuation mark or a conjunctive particle (し, ので, が, て)."""
    return token.pos == "補助記号" or token.pos2 == "接続助詞"


WAIT_VERBS = frozenset({"wait", "待つ", "待たす"})
TIME_UNITS = frozenset({"minute", "min", "hour", "hr", "day", "week", "month",
                        "分", "時間", "日", "週間", "週", "ヶ月", "か月", "カ月"})  # fmt: skip
NUMBER_WORDS = frozenset({"a", "an", "one", "two", "three", "four", "five", "six", "seven",
                          "eight", "nine", "ten", "few", "several", "many", "couple", "数",
                          "何"})  # fmt: skip


def _is_duration(tokens: Sequence[Token], i: int, lo: int) -> bool:
    """tokens[i] is a time unit after a number: 5 days, two weeks, 3日, 1時間, 数日."""
    if tokens[i].norm not in TIME_UNITS or i == lo:
        return False
    before = tokens[i - 1]
    return _is_number(before) or before.norm in NUMBER_WORDS


def _timed_waits(tokens: Sequence[Token], lo: int, hi: int, covered: set[int]) -> list[int]:
    """Positions of a wait verb with its duration: after it in English (waited 5 days, had to
    wait two weeks), before it in Japanese (3日待った, 1時間以上待たされた). Not one a lexicon
    phrase already read (待たされる)."""
    out = []
    for i in range(lo, hi):
        if tokens[i].norm not in WAIT_VERBS or i in covered:
            continue
        english = tokens[i].norm == "wait"
        near = range(i + 1, min(hi, i + 5)) if english else range(max(lo, i - 4), i)
        if any(_is_duration(tokens, j, lo) for j in near):
            out.append(i)
    return out


BENEFACTIVE_LINKS = frozenset({"て", "で", "って"})
BENEFACTIVE_VERBS = frozenset({"呉れる", "貰う", "頂く"})
BENEFACTIVE_STOPS = frozenset({"と", "ば", "たら", "だら", "なら", "だけ", "しか", "のみ"})


def _benefactives(tokens: Sequence[Token], lo: int, hi: int, covered: set[int]) -> list[int]:
    """Positions of benefactive auxiliaries: 〜てくれる, 〜てもらう, 〜ていただく (見つけてくれた,
    使わせてもらった) say the speaker received a favour. Not those a lexicon phrase already
    read (解決してくれる)."""
    return [i for i in range(max(lo, 1), hi)
            if tokens[i].norm in BENEFACTIVE_VERBS and tokens[i - 1].norm in BENEFACTIVE_LINKS
            and i not in covered and not _hypothetical_or_only(tokens, i + 1, hi)]  # fmt: skip


def _hypothetical_or_only(tokens: Sequence[Token], start: int, hi: int) -> bool:
    """A conditional (〜てもらえると, 〜てくれたら, 〜ていただければ) or a restriction
    (〜てもらっただけ) right after: no favour was received, or not enough of one."""
    for j in range(start, min(hi, start + 3)):
        if tokens[j].surface in BENEFACTIVE_STOPS:
            return True
        if tokens[j].norm not in ("ます", "た", "だ", "です"):
            return False
    return False


def _excess(tokens: Sequence[Token], lo: int, hi: int, lexicon: PolarityLexicon) -> list[int]:
    """Positions of "excess" constructions whose word is not in the lexicon already.

    Japanese: an adjective (stem) + 過ぎる (多すぎる, 細かすぎて, 複雑すぎ). English: "too" + a
    word (too basic, too many), not at the end ("me too") and not after a negator (not too bad).
    Words that are themselves sentiment words (良すぎる, too slow) are left to the lexicon.
    """
    known = lexicon.single_words
    out = []
    for i in range(lo, hi):
        tok = tokens[i]
        if tok.norm == "過ぎる" and i > lo and tokens[i - 1].pos in ("形容詞", "形状詞"):
            word = tokens[i - 1]
        elif tok.norm == "too" and i + 1 < hi and tokens[i + 1].norm.isalpha():
            word = tokens[i + 1]
            if any(tokens[j].norm in lexicon.negators for j in range(max(lo, i - 2), i)):
                continue
        else:
            continue
        if word.norm not in known:
            out.append(i)
    return out
