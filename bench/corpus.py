"""Synthetic survey corpora of any size in the shape of ``samples/survey.csv``, for benchmarks.

    python -m bench.corpus --n 100000 --out /tmp/corpus.csv [--seed 0] [--no-fukui]

Rows have the sample's columns (id, customer_id, date, score, text, sub_* scores, plan,
company_size, channel, role). Texts are drawn from:

- the shipped sample's comments (``samples/survey.csv``, written for this project: Japanese,
  English and mixed), with their scores and sub-scores;
- when present, real answers of the Fukui tourism survey
  (``../shared/data/fukui/fukui_survey_comments_2022-04_2025-06.csv``) with their 0-10 score —
  出典: 福井県観光連盟「福井県観光データ分析システム FTAS」 (CC BY 4.0). Any file written from
  them carries that attribution next to it (``<file>.ATTRIBUTION.txt``, outside export folders).
  Without the file the sample alone is used.

Realism knobs: a heavy-tailed length distribution (most comments are one text, some join 2-5),
exact duplicates (re-drawing from a finite pool, plus ~5 % copies of an earlier row's text),
near-duplicates (~8 %: punctuation, width, a greeting or a trailing emoji changed), and the
sample's segment mix. Deterministic by seed: chunk ``k`` of ``chunk_size`` rows depends only on
(seed, k), so a 10k corpus is the prefix of the 100k one with the same seed and chunk size.
Generation streams chunk by chunk (``iter_chunks``), so 1M rows never sit in memory at once.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "survey.csv"
FUKUI = REPO.parent / "shared/data/fukui/fukui_survey_comments_2022-04_2025-06.csv"
ATTRIBUTION = (
    "Some texts: 出典: 福井県観光連盟「福井県観光データ分析システム FTAS」 "
    "(fukui_survey_comments_2022-04_2025-06.csv), CC BY 4.0, "
    "https://creativecommons.org/licenses/by/4.0/ ; mixed with koe's synthetic sample survey."
)
COLUMNS = [
    "id", "customer_id", "date", "score", "text", "sub_speed", "sub_knowledge", "sub_accuracy",
    "sub_proposal", "sub_business_understanding", "plan", "company_size", "channel", "role",
]  # fmt: skip
SUB_COLUMNS = COLUMNS[5:10]
SEGMENTS = {
    "plan": (("Standard", 50), ("Free", 28), ("Enterprise", 22)),
    "company_size": (("50-299", 44), ("1-49", 31), ("300+", 25)),
    "channel": (("email", 50), ("web", 32), ("phone", 10), ("event", 8)),
    "role": (("end_user", 61), ("key_person", 39)),
}
# near-duplicate edits: (old, new) replacements tried in order, else an affix
_SWAPS = (("。", "！"), ("、", "，"), ("問い合わせ", "問合せ"), ("です。", "です！"), ("1", "１"),
          ("2", "２"), ("ください", "下さい"), (".", "!"), ("!", "."))  # fmt: skip
_PREFIXES = (
    "いつもお世話になっております。",
    "特にありませんが、",
    "個人的には、",
    "正直、",
    "Hi, ",
)
_SUFFIXES = ("👍", "！", "。", " 以上です。", "よろしくお願いします。", " Thanks!", "😅")
# number of texts joined into one comment: mostly one, a heavy tail
_PIECES = ((1, 70), (2, 18), (3, 8), (4, 3), (5, 1))
DEFAULT_CHUNK = 10_000
START_DATE = dt.date(2025, 11, 1)
DAYS = 365


@dataclass(frozen=True)
class Source:
    text: str
    score: int
    subs: tuple[str, ...]  # sub-score cells ("" = blank)
    origin: str  # "sample" or "fukui"


def _clean_sample(path: Path = SAMPLE) -> list[Source]:
    out = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            text, score = row["text"].strip(), row["score"].strip()
            if not text or not score.isdigit() or not 0 <= int(score) <= 10:
                continue  # the sample's deliberately bad rows (quarantine tests) stay out
            subs = tuple(row[c] if row[c].strip().isdigit() else "" for c in SUB_COLUMNS)
            out.append(Source(text, int(score), subs, "sample"))
    return out


def _fukui(path: Path = FUKUI) -> list[Source]:
    if not path.is_file():
        return []
    out = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            text, nps = (row.get("text") or "").strip(), (row.get("nps") or "").strip()
            if text and nps.replace(".0", "").isdigit():
                out.append(Source(text, int(float(nps)), ("",) * len(SUB_COLUMNS), "fukui"))
    return out


def load_sources(use_fukui: bool = True) -> tuple[list[Source], list[Source]]:
    """(sample texts, Fukui texts or [] when absent or not wanted)."""
    return _clean_sample(), (_fukui() if use_fukui else [])


def _weighted(rng: random.Random, options: tuple[tuple, ...]):
    values = [o[0] for o in options]
    return rng.choices(values, weights=[o[1] for o in options])[0]


def near_duplicate(text: str, rng: random.Random) -> str:
    """A small edit of ``text`` (punctuation, width, greeting, emoji), never the same string."""
    swaps = [(a, b) for a, b in _SWAPS if a in text]
    if swaps and rng.random() < 0.5:
        a, b = rng.choice(swaps)
        return text.replace(a, b, 1)
    if rng.random() < 0.5:
        return rng.choice(_PREFIXES) + text
    return text + rng.choice(_SUFFIXES)


def _terminated(text: str) -> str:
    if text[-1:] in "。！？!?.♪":
        return text
    return text + (". " if text.isascii() else "。")


def _sub_cells(source: Source, score: int, rng: random.Random) -> list[str]:
    if source.origin == "sample" and any(source.subs):
        return list(source.subs)
    if rng.random() < 0.1:
        return [""] * len(SUB_COLUMNS)  # sub-scores left blank
    base = 1 + round(score * 0.4)
    return [str(min(5, max(1, base + rng.choice((-1, 0, 0, 1))))) for _ in SUB_COLUMNS]


def iter_chunks(
    n: int,
    seed: int = 0,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    id_offset: int = 0,
    id_prefix: str = "B",
    fukui_share: float = 0.5,
    sources: tuple[list[Source], list[Source]] | None = None,
    start_date: dt.date = START_DATE,
    days: int = DAYS,
) -> Iterator[list[list[str]]]:
    """Yield lists of rows (cells as strings, in ``COLUMNS`` order), ``n`` rows in all.

    Args:
        n: rows to generate.
        seed: the corpus seed; chunk k uses ``random.Random(f"{seed}:{k}")``.
        id_offset: first row number (ids are ``{id_prefix}{row:08d}``).
        fukui_share: share of texts from the Fukui survey when it is available.
        sources: ``load_sources()`` result (loaded once when None).
        start_date, days: dates are uniform over ``days`` days from ``start_date``.
    """
    sample, fukui = sources if sources is not None else load_sources()
    if not sample:
        raise ValueError(f"no usable rows in {SAMPLE}")
    share = fukui_share if fukui else 0.0
    recent: list[str] = []  # texts of earlier rows of this chunk, for exact copies
    for k, first in enumerate(range(0, n, chunk_size)):
        rng = random.Random(f"{seed}:{k}")
        n_customers = (first + chunk_size) // 3  # ~3 answers per customer; per chunk
        rows = []
        recent.clear()
        for i in range(first, min(n, first + chunk_size)):
            pieces = []
            for _ in range(_weighted(rng, _PIECES)):
                pool = fukui if rng.random() < share else sample
                pieces.append(rng.choice(pool))
            main = pieces[0]
            if len(pieces) > 1 and rng.random() < 0.3:
                text = "\n".join(p.text for p in pieces)  # one answer per line
            else:
                text = (
                    " ".join(_terminated(p.text) for p in pieces)
                    if main.text.isascii()
                    else "".join(_terminated(p.text) for p in pieces[:-1]) + pieces[-1].text
                )
            r = rng.random()
            if r < 0.05 and recent:
                text = rng.choice(recent)  # an exact copy of an earlier comment
            elif r < 0.13:
                text = near_duplicate(text, rng)
            recent.append(text)
            if len(recent) > 2000:
                del recent[: len(recent) // 2]
            score = main.score
            if rng.random() < 0.15:
                score = min(10, max(0, score + rng.choice((-1, 1))))
            date = start_date + dt.timedelta(days=rng.randrange(days))
            row = [
                f"{id_prefix}{id_offset + i:08d}",
                f"C{rng.randrange(n_customers):07d}",
                date.isoformat(),
                str(score),
                text,
                *_sub_cells(main, score, rng),
                *(_weighted(rng, SEGMENTS[c]) for c in ("plan", "company_size", "channel", "role")),
            ]
            rows.append(row)
        yield rows


def write_csv(path: Path, n: int, seed: int = 0, **kwargs) -> dict[str, int]:
    """Write ``n`` rows to ``path`` (UTF-8 CSV with header) chunk by chunk.

    When Fukui texts were used, the attribution goes to ``<path>.ATTRIBUTION.txt`` — in the
    parent of an export folder if ``path`` sits in one (``attribution_dir`` overrides).

    Returns counts: rows, fukui (whether the Fukui file was available).
    """
    attribution_dir = kwargs.pop("attribution_dir", None)
    sources = kwargs.pop("sources", None) or load_sources(kwargs.pop("use_fukui", True))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for chunk in iter_chunks(n, seed, sources=sources, **kwargs):
            writer.writerows(chunk)
            rows += len(chunk)
    if sources[1]:
        where = Path(attribution_dir) if attribution_dir else path.parent
        (where / f"{path.name}.ATTRIBUTION.txt").write_text(ATTRIBUTION + "\n", encoding="utf-8")
    return {"rows": rows, "fukui": int(bool(sources[1]))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--no-fukui", action="store_true", help="use the shipped sample only")
    args = parser.parse_args(argv)
    info = write_csv(args.out, args.n, args.seed, use_fukui=not args.no_fukui)
    print(f"wrote {info['rows']} rows to {args.out} (Fukui texts: {bool(info['fukui'])})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
