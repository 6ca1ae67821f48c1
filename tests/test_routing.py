"""Routing rules are data; routed files are safe to share."""

from __future__ import annotations

import pandas as pd

from koe.config import KoeConfig, RoutingRule
from koe.core.safety import mask_personal_data, neutralize_formula, safe_for_spreadsheet
from koe.outputs import write_routed
from koe.routing import route_comments
from koe.taggers.lookup import tags_frame


def frames():
    comments = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "date": pd.to_datetime(["2026-10-01"] * 4),
            "score": pd.array([2, 10, 8, 5], dtype="Int64"),
            "nps_class": ["detractor", "promoter", "passive", "detractor"],
            "customer_id": ["C1", "C2", "C3", "C4"],
            "plan": ["Free", "Enterprise", "Standard", "Free"],
            "text": ["返信が遅い", "サポートが丁寧", "CSV出力がほしい", "特になし"],
            "non_answer": [False, False, False, True],
        }
    )

    def tag(cid, theme, dept, pol, req=False):
        return {"id": cid, "sentence_idx": 0, "theme": theme, "theme_name": theme, "parent": "",
                "department": dept, "polarity": pol, "is_request": req, "source": "lookup",
                "evidence": "ev-" + theme, "start": 0, "end": 2}  # fmt: skip

    tags = tags_frame([
        tag("a", "support_response_speed", "support", "negative"),
        tag("b", "support_attitude", "support", "positive"),
        tag("c", "feature_request", "product", "neutral", req=True),
    ])  # fmt: skip
    return comments, tags


def test_default_rules_route_follow_up_praise_requests_and_triage():
    comments, tags = frames()
    routed = route_comments(comments, tags, KoeConfig().routing_rules(),
                            departments=["support", "marketing", "product", "triage"],
                            segments=["plan"])  # fmt: skip
    assert routed["support"]["id"].tolist() == ["a", "b"]
    assert routed["support"].loc[0, "routed_by"] == (
        "theme:support_response_speed; rule:support_follow_up"
    )
    assert routed["marketing"]["id"].tolist() == ["b"]
    assert routed["marketing"].loc[0, "routed_by"] == "rule:testimonial_candidate"
    assert routed["product"]["id"].tolist() == ["c"]
    assert routed["product"].loc[0, "themes"] == "feature_request(neutral)"
    # "d" is a non-answer: counted, but not sent to triage
    assert routed["triage"].empty
    assert list(routed["support"].columns) == [
        "id",
        "date",
        "score",
        "nps_class",
        "customer_id",
        "plan",
        "text",
        "themes",
        "routed_by",
        "evidence",
        "theme_names",
    ]
    # the department reads theme names; the ids stay in `themes`
    names = dict(zip(tags["theme"], tags["theme_name"], strict=True))
    assert routed["product"].loc[0, "theme_names"] == f"{names['feature_request']}(neutral)"


def test_custom_rule_to_a_user_department():
    comments, tags = frames()
    rule = RoutingRule(name="vip", to="sales", when={"nps_class": ["detractor"]})
    routed = route_comments(comments, tags, [rule])
    assert routed["sales"]["id"].tolist() == ["a"]


def test_formula_injection_is_neutralized():
    assert neutralize_formula('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert neutralize_formula("+81") == "'+81"
    assert neutralize_formula("普通の文") == "普通の文"
    frame = safe_for_spreadsheet(pd.DataFrame({"t": ["@SUM(A1)", "ok"], "n": [1, 2]}))
    assert frame["t"].tolist() == ["'@SUM(A1)", "ok"] and frame["n"].tolist() == [1, 2]


# fmt: off
def test_personal_data_is_masked():
    assert mask_personal_data("連絡は taro.yamada@example.co.jp まで") == "連絡は [email] まで"
    assert mask_personal_data("電話 03-1234-5678 か 090-1234-5678") == "電話 [phone] か [phone]"
    assert mask_personal_data("call +81 3 1234 5678 now") == "call [phone] now"
    assert mask_personal_data("〒100-0001 東京都") == "[postal] 東京都"
    assert mask_personal_data("バージョン3.5で2回") == "バージョン3.5で2回"
# fmt: on


def test_routed_csv_has_bom_and_masked_text(tmp_path):
    comments, tags = frames()
    comments.loc[0, "text"] = "=返信が遅い a@b.jp"
    routed = route_comments(comments, tags, KoeConfig().routing_rules())
    write_routed(routed, tmp_path)
    raw = (tmp_path / "support.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(tmp_path / "support.csv", encoding="utf-8-sig")
    assert back.loc[0, "text"] == "'=返信が遅い [email]"


def test_untagged_comments_say_which_emergent_theme_caught_them():
    comments, tags = frames()
    comments.loc[3, ["text", "non_answer"]] = ["ログインできない", False]
    cluster = tags_frame([{
        "id": "d", "sentence_idx": 0, "theme": "cluster_02", "theme_name": "ログイン", "parent": "",
        "department": "triage", "polarity": "negative", "is_request": False, "source": "cluster",
        "evidence": "ログインできない", "start": 0, "end": 8,
    }])  # fmt: skip
    routed = route_comments(comments, pd.concat([tags, cluster], ignore_index=True),
                            KoeConfig().routing_rules())  # fmt: skip
    row = routed["triage"].set_index("id").loc["d"]
    assert row["routed_by"] == "rule:untagged_triage; cluster:cluster_02"
    assert row["evidence"] == "ログインできない"
    assert row["themes"] == "cluster_02(negative)"


def test_default_rules_follow_the_lists_departments():
    from koe.config import KoeConfig

    config = KoeConfig()
    saas = {r.name: r.to for r in config.routing_rules(["marketing", "product", "sales",
                                                         "support"])}  # fmt: skip
    assert saas == {"support_follow_up": "support", "testimonial_candidate": "marketing",
                    "product_feedback": "product", "untagged_triage": "triage",
                    "sales_follow_up": "sales"}  # fmt: skip
    # a tourism list: nothing is sent to a "product" or "support" department it does not have
    tourism = config.routing_rules(["marketing", "operations"])
    assert [(r.name, r.to) for r in tourism] == [
        ("testimonial_candidate", "marketing"), ("operations_follow_up", "operations"),
        ("untagged_triage", "triage"),
    ]  # fmt: skip
    assert tourism[1].when.department == ["operations"]
    assert tourism[1].when.nps_class == ["detractor"]
    assert len(config.routing_rules()) == 4  # without departments: the shipped defaults
