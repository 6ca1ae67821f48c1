"""PII masking on the ways people write phone numbers, e-mail addresses and postal codes in
Japanese text (numbers glued to kana and kanji, full-width digits), and on text that must stay."""

from __future__ import annotations

import pytest

from koe.core.safety import mask_personal_data

MASKED = [
    ("電話03-1234-5678にお願いします", "電話[phone]にお願いします"),
    ("携帯090-1234-5678です", "携帯[phone]です"),
    ("携帯は09012345678です", "携帯は[phone]です"),
    ("TEL:0312345678", "TEL:[phone]"),
    ("(03)1234-5678まで", "[phone]まで"),
    ("（03）1234-5678まで", "[phone]まで"),
    ("090 1234 5678", "[phone]"),
    ("０９０－１２３４－５６７８に電話", "[phone]に電話"),
    ("フリーダイヤル0120-123-456へ", "フリーダイヤル[phone]へ"),
    ("call +81 3 1234 5678 now", "call [phone] now"),
    ("電話 03-1234-5678 か 090-1234-5678", "電話 [phone] か [phone]"),
    ("住所100-0001東京都", "住所[postal]東京都"),
    ("〒100-0001 東京都", "[postal] 東京都"),
    ("〒１００－０００１", "[postal]"),
    ("連絡は taro.yamada@example.co.jp まで", "連絡は [email] まで"),
    ("メールはtaro@example.comまでください", "メールは[email]までください"),
    ("返信先:hanako+koe@mail.example.jpでお願いします", "返信先:[email]でお願いします"),
]

KEPT = [
    "2026-11-01に問い合わせました",
    "2026/11/01 10:30に電話しました",
    "01-02-2026の件",
    "料金は1,000円から12,000円です",
    "500-1000円くらいの価格帯",
    "型番ABC-1234の不具合",
    "iPhone 15で使っています",
    "3回問い合わせて20分待ちました",
    "注文番号12345678について",
    "バージョン1.2.3で改善",
    "100人規模の会社です",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_personal_data_is_masked_exactly(text, expected):
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_dates_prices_model_numbers_and_counts_are_kept(text):
    assert mask_personal_data(text) == text
