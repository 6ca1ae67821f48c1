"""Tests for koe.ingest.normalize."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from koe.ingest.normalize import NON_ANSWERS, is_meaningful, is_non_answer, normalize_text

# fmt: off
NORMALIZE_CASES = [
    # NFKC
    ("ＡＰＩの反応が遅い", "APIの反応が遅い"),
    ("推奨度は９点", "推奨度は9点"),
    ("ｶｽﾀﾏｰｻﾎﾟｰﾄ", "カスタマーサポート"),
    ("問合せ\u3000の返信", "問合せ の返信"),
    ("①操作が難しい", "1操作が難しい"),
    ("㈱山田商事", "(株)山田商事"),
    # HTML remnants
    ("改行<br>あり", "改行\nあり"),
    ("改行<BR/>あり", "改行\nあり"),
    ("改行<br />あり", "改行\nあり"),
    ("<p>段落1</p><p>段落2</p>", "段落1\n\n段落2"),
    ("<div>画面が<b>重い</b></div>", "画面が重い"),
    ('<span style="color:red">赤字</span>', "赤字"),
    ("<!-- メモ -->本文", "本文"),
    ("A&amp;B &lt;3 &quot;良い&quot;", 'A&B <3 "良い"'),
    ("&nbsp;前後&nbsp;", "前後"),
    ("&#12354;&#x3044;", "あい"),
    ("価格<品質", "価格<品質"),
    ("<良い>サービス", "<良い>サービス"),
    # control characters and line breaks
    ("良\x00い", "良い"),
    ("a\x01b\x1fc\x7fd", "abcd"),
    ("ゼロ\u200b幅", "ゼロ幅"),
    ("\ufeff先頭BOM", "先頭BOM"),
    ("行1\r\n行2\r行3", "行1\n行2\n行3"),
    ("行1\u2028行2", "行1\n行2"),
    # whitespace
    ("a \t  b", "a b"),
    ("  前後の空白  ", "前後の空白"),
    (" 行1 \n\t行2 ", "行1\n行2"),
    ("a\n\n\n\n\nb", "a\n\nb"),
    ("a\n \n \n \nb", "a\n\nb"),
    ("\n\n本文\n\n", "本文"),
    # emoji are kept (including ZWJ sequences and variation selectors)
    ("最高👍", "最高👍"),
    ("家族👨\u200d👩\u200d👧", "家族👨\u200d👩\u200d👧"),
    ("❤\ufe0f", "❤\ufe0f"),
    # nothing left
    ("", ""),
    ("   \n\t ", ""),
    ("\x00\x01", ""),
    ("<br><br>", ""),
]
# fmt: on


@pytest.mark.parametrize(("raw", "expected"), NORMALIZE_CASES)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_normalize_text_long_input() -> None:
    assert normalize_text("あ" * 100_000) == "あ" * 100_000


# fmt: off
MEANINGFUL_CASES = [
    ("良い", True),
    ("ok", True),
    ("5", True),
    ("ｗ", True),
    ("①", True),
    ("問合せの返信が遅い。", True),
    ("良い👍", True),
    ("。。。", False),
    ("👍👍", False),
    ("!!!", False),
    ("！？", False),
    ("・・・", False),
    ("(^^)", False),
    ("", False),
    ("   ", False),
    ("\x00", False),
    ("<br>", False),
]
# fmt: on


@pytest.mark.parametrize(("text", "expected"), MEANINGFUL_CASES)
def test_is_meaningful(text: str, expected: bool) -> None:
    assert is_meaningful(text) is expected


# fmt: off
NON_ANSWER_CASES = [
    ("特になし", True),
    ("特になし。", True),
    ("特になし！", True),
    ("特に なし", True),
    (" とくになし ", True),
    ("特に無し", True),
    ("特にありません。", True),
    ("特にないです", True),
    ("なし", True),
    ("無し", True),
    ("ない", True),
    ("無回答", True),
    ("ﾅｼ", True),
    ("None", True),
    ("N/A", True),
    ("ｎ／ａ", True),
    ("NA", True),
    ("Nothing.", True),
    ("No comment", True),
    ("-", True),
    ("ー", True),
    ("特になし。強いて言えば価格", False),
    ("問合せの返信が遅い", False),
    ("ないと困る機能", False),
    ("", False),
    ("。", False),
    ("...", False),
]
# fmt: on


@pytest.mark.parametrize(("text", "expected"), NON_ANSWER_CASES)
def test_is_non_answer(text: str, expected: bool) -> None:
    assert is_non_answer(text) is expected


def test_non_answers_are_stored_normalized() -> None:
    for answer in NON_ANSWERS:
        assert normalize_text(answer).lower() == answer
        assert is_non_answer(answer)


@given(st.text(alphabet=st.characters(exclude_characters="<&")))
def test_normalize_text_is_idempotent_without_markup(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert "\x00" not in once
    assert "\r" not in once
    assert "\n\n\n" not in once
    assert once == once.strip()
