"""Strict, safe loading of lookup lists: every error names the file and line."""

from __future__ import annotations

import textwrap

import pytest

from koe.taggers.lookup_lists import LookupListError, load_lookup_lists
from koe.taggers.polarity import PolarityLexicon

GOOD = """\
version: 1
departments:
  - id: sales
    name: 営業
themes:
  - id: support
    name: {ja: サポート, en: Support}
    department: support
  - id: support_response_speed
    name: {ja: 返信の速さ, en: Response speed}
    parent: support
    keywords: [返信, レスポンス]
  - id: renewal
    name: 更新
    department: sales
    keywords: [契約更新]
"""


def write(tmp_path, text, name="themes.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_good_list_loads_with_inherited_department_and_custom_department(tmp_path):
    write(tmp_path, GOOD)
    lists = load_lookup_lists(tmp_path)
    assert lists.labels == ("support", "support_response_speed", "renewal")
    assert lists.themes["support_response_speed"].department == "support"
    assert lists.themes["support_response_speed"].line == 9
    assert lists.themes["renewal"].department == "sales"
    assert lists.departments["sales"] == "営業"
    assert "support" in lists and len(lists) == 3
    assert len(lists.sha256) == 64


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("keywords: [返信, レスポンス]", "keywordz: [返信]"),
            r"themes.yaml:9: unknown field\(s\) \['keywordz'\]",
        ),
        (
            ("id: renewal", "id: support"),
            r"themes.yaml:13: duplicate theme id 'support' \(first defined at .*themes.yaml:6\)",
        ),
        (
            ("parent: support", "parent: nowhere"),
            r"themes.yaml:9: theme 'support_response_speed': parent 'nowhere' is not defined",
        ),
        (
            ("[返信, レスポンス]", "[返信, '']"),
            r"themes.yaml:9: theme 'support_response_speed': empty entry in keywords",
        ),
        (
            ("department: sales", "department: legal"),
            r"themes.yaml:13: theme 'renewal': unknown department 'legal'",
        ),
        (("id: renewal", "id: Renewal-1"), r"themes.yaml:13: theme id must be an ASCII slug"),
        (
            ("keywords: [契約更新]", "regex: ['(unclosed']"),
            r"themes.yaml:13: theme 'renewal': invalid regex",
        ),
        (("keywords: [返信, レスポンス]", "keywords: [返信, no]"), r"quote it"),
        (("name: 更新", "name: [更新"), r"themes.yaml:\d+: invalid YAML"),
    ],
)
def test_invalid_lists_raise_with_file_and_line(tmp_path, change, message):
    write(tmp_path, GOOD.replace(*change))
    with pytest.raises(LookupListError, match=message):
        load_lookup_lists(tmp_path)


def test_missing_folder_and_empty_folder(tmp_path):
    with pytest.raises(LookupListError, match="not found"):
        load_lookup_lists(tmp_path / "nope")
    with pytest.raises(LookupListError, match="no lookup lists"):
        load_lookup_lists(tmp_path)


def test_yaml_is_loaded_safely(tmp_path):
    write(tmp_path, "themes: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(LookupListError, match="invalid YAML"):
        load_lookup_lists(tmp_path)


def test_polarity_lexicon_rejects_unquoted_no(tmp_path):
    path = write(tmp_path, "positive: [良い]\nnegative: [悪い]\nnegators: [ない, no]\n", "p.yaml")
    with pytest.raises(LookupListError, match="quote it"):
        PolarityLexicon.from_yaml(path)
