"""`koe review`'s app through HTTP (Starlette's TestClient) over a real run folder: browsing,
decisions and the gold file, list edits with preview, last-write detection and undo, and the
guard (token, CSRF, host, escaping). The browser flow is tests/test_workbench_browser.py."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from koe.cli import app as cli
from koe.evaluate import evaluate_tags
from koe.store import RunStore
from koe.workbench import Workbench, create_app
from koe.workbench.data import load_run
from koe.workbench.security import BindError, Guard, check_bind

from .review_project import HOSTILE, make_project, read_tags, run_koe


@pytest.fixture(scope="module")
def project(prefect_harness, tmp_path_factory):
    config = make_project(tmp_path_factory.mktemp("review"))
    return config, run_koe(config)


@pytest.fixture
def bench(project, tmp_path):
    """A workbench over the module's run with its own copy of the lists and its own store."""
    config, run = project
    lists = tmp_path / "lists"
    shutil.copytree(config.parent / "lists", lists)
    store = RunStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    yield Workbench(load_run(run), lists, store, tmp_path / "review_gold.csv", author="aki")
    store.close()


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def test_the_overview_lists_every_theme_with_volume_mix_and_impact(bench):
    page = TestClient(create_app(bench)).get("/")
    assert page.status_code == 200
    tags = bench.run.tags
    reports = tags[tags["theme"] == "product_reports"]
    row = re.search(r'href="/theme/product_reports">.*?</tr>', page.text, re.S).group(0)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[2] == str(reports["id"].nunique())  # cells after the name: kind, department, ...
    mix = [int(n) for n in re.findall(r'title="\w+">(\d+)<', row)]
    assert mix == [int((reports["polarity"] == p).sum()) for p in ("positive", "neutral", "negative")]
    drivers = bench.run.drivers
    impact = drivers[(drivers["theme"] == "product_reports") & (drivers["polarity"] == "any")]
    assert cells[4] == f"{impact['impact'].iloc[0]:+.1f}"
    assert 'href="/theme/cluster_01"' in page.text  # emergent themes too


def test_a_theme_page_filters_and_highlights_the_evidence(bench):
    client = TestClient(create_app(bench))
    tags = bench.run.tags.merge(bench.run.comments[["id", "nps_class"]], on="id")
    reports = tags[tags["theme"] == "product_reports"]
    page = client.get("/theme/product_reports", params={"polarity": "negative",
                                                        "score_group": "detractor"}).text
    expected = reports[(reports["polarity"] == "negative") & (reports["nps_class"] == "detractor")]
    assert page.count("<article") == len(expected) > 0
    first = expected.iloc[0]
    assert f"<mark>{first['evidence']}</mark>" in page
    assert client.get("/theme/product_reports", params={"q": "CSV"}).text.count("<article") == \
        reports["id"].isin(bench.run.comments.loc[bench.run.comments["text"].str.contains("CSV"),
                                                  "id"]).sum()  # fmt: skip
    assert client.get("/theme/no_such_theme").status_code == 404


def test_decisions_are_stored_with_their_sentence_and_make_the_gold_file(bench):
    client = TestClient(create_app(bench))
    tags = bench.run.tags
    lookup = tags[(tags["source"] == "lookup") & (tags["theme"] == "product_reports")]
    wrong, right = lookup.iloc[0], lookup.iloc[1]
    page = client.get("/theme/product_reports").text
    base = {"csrf": hidden(page, "csrf"), "next": "/theme/product_reports"}
    for action, tag, extra in (("reject", wrong, {}), ("polarity", right, {"polarity": "negative"}),
                               ("change_theme", right, {"new_theme": "product_bugs"})):
        form = {**base, "action": action, "comment_id": tag["id"],
                "sentence_idx": str(tag["sentence_idx"]), "theme": tag["theme"], **extra}
        response = client.post("/decide", data=form, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == base["next"]
    decisions = bench.store.decisions()
    assert decisions["action"].tolist() == ["reject", "polarity", "reject", "add"]
    assert decisions["author"].unique().tolist() == ["aki"]
    assert decisions["sentence"].iloc[0] == wrong["sentence"]
    assert decisions["theme"].tolist()[-1] == "product_bugs"
    gold = pd.read_csv(bench.gold_path, dtype=str, keep_default_na=False)
    assert set(gold["id"]) == {wrong["id"], right["id"]}
    others = tags[tags["source"].isin(["lookup", "semantic", "review"])]
    keep = others[(others["id"] == wrong["id"]) & (others["theme"] != "product_reports")]
    assert sorted(gold.loc[gold["id"] == wrong["id"], "theme"]) == (sorted(keep["theme"]) or [""])
    assert "product_reports" not in set(gold.loc[gold["id"] == right["id"], "theme"])
    assert ("product_bugs", "neutral") in set(zip(gold["theme"], gold["polarity"], strict=True))
    # koe eval reads it: the run's own tags now miss the rejected and changed ones
    result = evaluate_tags(gold, read_tags(bench.run_folder), ids=gold["id"])
    assert result.micro_precision < 1.0 and result.comments == 2
    # undo withdraws the latest decision and rewrites the gold file
    undo = client.post(f"/undo/decision/{decisions['decision_id'].iloc[-1]}",
                       data={"csrf": base["csrf"]}, follow_redirects=False)  # fmt: skip
    assert undo.status_code == 303 and len(bench.store.decisions()) == 3
    gold = pd.read_csv(bench.gold_path, dtype=str, keep_default_na=False)
    assert "product_bugs" not in set(gold.loc[gold["id"] == right["id"], "theme"])


def test_an_exclusion_is_previewed_then_saved_and_undone(bench):
    client = TestClient(create_app(bench))
    tags = bench.run.tags
    reports = tags[(tags["theme"] == "product_reports") & (tags["source"] == "lookup")]
    # the rule: a comment loses the theme when every sentence the lists tag with it has CSV
    from koe.taggers.factory import build_tagger
    from koe.taggers.sentences import split_sentences

    comments = bench.run.comments[bench.run.comments["id"].isin(set(reports["id"]))]
    sentences = split_sentences(comments)
    mentions = build_tagger(bench.lists).tag(sentences)
    mentions = mentions[mentions["theme"] == "product_reports"].merge(
        sentences, on=["id", "sentence_idx"])  # fmt: skip
    every_csv = mentions.groupby("id")["sentence"].agg(lambda s: s.str.contains("CSV").all())
    only_csv = pd.DataFrame({"id": every_csv[every_csv].index})
    preview = client.get("/theme/product_reports/preview",
                         params={"field": "exclusions", "value": "CSV"}).text  # fmt: skip
    removed = int(re.search(r'id="preview-removed">(\d+)<', preview).group(1))
    assert removed == only_csv["id"].nunique() > 0
    listed = re.findall(r"<li><code>(R\d+)</code>", preview)
    assert sorted(listed) == sorted(only_csv["id"])[:10]
    assert re.search(r'id="preview-added">0<', preview)
    path = bench.lists / "saas.yaml"
    before = path.read_text(encoding="utf-8")
    form = {"csrf": hidden(preview, "csrf"), "version": hidden(preview, "version"),
            "action": "exclusion", "theme": "product_reports", "value": "CSV",
            "next": "/theme/product_reports"}  # fmt: skip
    saved = client.post("/lists/edit", data=form, follow_redirects=False)
    assert saved.status_code == 303
    after = path.read_text(encoding="utf-8")
    assert after != before and after.count("#") == before.count("#")  # comments kept
    assert "exclusions: [自動返信, CSV]" in after or "- CSV" in after
    from koe.taggers.lookup_lists import load_lookup_lists

    assert "CSV" in load_lookup_lists(bench.lists).themes["product_reports"].exclusions
    # the same form again, from the page rendered before the save: a stale version
    again = client.post("/lists/edit", data={**form, "value": "Excel"}, follow_redirects=False)
    assert again.status_code == 409 and "changed since this page was loaded" in again.text
    assert path.read_text(encoding="utf-8") == after  # the first edit stands
    edit_id = int(bench.store.list_edits()["edit_id"].iloc[0])
    undo = client.post(f"/undo/edit/{edit_id}", data={"csrf": form["csrf"]}, follow_redirects=False)
    assert undo.status_code == 303 and path.read_text(encoding="utf-8") == before
    assert bench.store.list_edits().empty


def test_two_tabs_do_not_lose_an_edit(bench):
    """Tab A and tab B load the same theme page; A saves a keyword; B's save is refused (409)
    and, reloaded, B's edit goes on top of A's."""
    client = TestClient(create_app(bench))
    tab_a = client.get("/theme/product_reports").text
    tab_b = client.get("/theme/product_reports").text
    form = {"csrf": hidden(tab_a, "csrf"), "action": "keyword", "theme": "product_reports",
            "next": "/theme/product_reports"}  # fmt: skip
    assert client.post("/lists/edit", data={**form, "value": "集計表",
                                            "version": hidden(tab_a, "version")},
                       follow_redirects=False).status_code == 303  # fmt: skip
    refused = client.post("/lists/edit", data={**form, "value": "グラフ表示",
                                               "version": hidden(tab_b, "version")})  # fmt: skip
    assert refused.status_code == 409
    reloaded = client.get("/theme/product_reports").text
    assert client.post("/lists/edit", data={**form, "value": "グラフ表示",
                                            "version": hidden(reloaded, "version")},
                       follow_redirects=False).status_code == 303  # fmt: skip
    from koe.taggers.lookup_lists import load_lookup_lists

    keywords = load_lookup_lists(bench.lists).themes["product_reports"].keywords
    assert {"集計表", "グラフ表示"} <= set(keywords)


def test_accepting_an_emergent_theme_writes_it_to_the_lists(bench):
    client = TestClient(create_app(bench))
    page = client.get("/theme/cluster_01").text
    form = {"csrf": hidden(page, "csrf"), "version": hidden(page, "version"), "action": "accept",
            "value": "cluster_01", "theme": "overall_satisfaction", "name": "総合満足",
            "department": "triage", "next": "/"}  # fmt: skip
    assert client.post("/lists/edit", data=form, follow_redirects=False).status_code == 303
    from koe.taggers.lookup_lists import load_lookup_lists

    theme = load_lookup_lists(bench.lists).themes["overall_satisfaction"]
    assert (theme.name, theme.department) == ("総合満足", "triage") and theme.keywords
    fresh = client.get("/theme/cluster_02").text
    bad = client.post("/lists/edit", data={**form, "version": hidden(fresh, "version")})
    assert bad.status_code == 400 and "already exists" in bad.text


def test_a_script_comment_renders_inert(bench):
    client = TestClient(create_app(bench))
    for url in ("/search?q=alert", "/theme/support_response_speed"):
        page = client.get(url)
        assert "&lt;script&gt;alert(&#34;koe&#34;)&lt;/script&gt;" in page.text
        assert "<script" not in page.text
        assert "script-src" not in page.headers["content-security-policy"]  # no script allowed
        assert "default-src 'none'" in page.headers["content-security-policy"]
    assert HOSTILE in set(bench.run.comments["text"])


def test_a_post_without_the_csrf_token_or_from_another_origin_is_refused(bench):
    client = TestClient(create_app(bench))
    page = client.get("/theme/product_reports").text
    tag = bench.run.tags.iloc[0]
    form = {"action": "reject", "comment_id": tag["id"], "sentence_idx": "0",
            "theme": tag["theme"]}  # fmt: skip
    assert client.post("/decide", data=form).status_code == 403
    assert client.post("/decide", data={**form, "csrf": "guess"}).status_code == 403
    other = client.post("/decide", data={**form, "csrf": hidden(page, "csrf")},
                        headers={"origin": "http://evil.example"})  # fmt: skip
    assert other.status_code == 403
    edit = {"action": "keyword", "theme": "product_reports", "value": "x",
            "version": hidden(page, "version")}  # fmt: skip
    assert client.post("/lists/edit", data=edit).status_code == 403
    assert bench.store.decisions().empty and bench.store.list_edits().empty


def test_with_a_token_every_request_needs_it(bench):
    client = TestClient(create_app(bench, Guard(token="s3cret")))
    assert client.get("/").status_code == 401
    assert client.get("/theme/product_reports").status_code == 401
    assert client.post("/decide", data={}).status_code == 401
    assert client.get("/", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/", headers={"authorization": "Bearer s3cret"}).status_code == 200
    first = client.get("/theme/product_reports?token=s3cret&polarity=negative",
                       follow_redirects=False)  # fmt: skip
    assert first.status_code == 303
    assert first.headers["location"] == "/theme/product_reports?polarity=negative"
    assert "httponly" in first.headers["set-cookie"].lower()
    assert client.get("/").status_code == 200  # the cookie carries it now


def test_a_loopback_bind_answers_only_to_loopback_host_names(bench):
    guard = Guard(allowed_hosts=frozenset({"127.0.0.1", "localhost"}))
    client = TestClient(create_app(bench, guard), base_url="http://127.0.0.1:8765")
    assert client.get("/").status_code == 200
    assert client.get("/", headers={"host": "attacker.example:8765"}).status_code == 403


def test_a_non_local_bind_without_a_token_is_refused(project):
    check_bind("127.0.0.1", None)
    check_bind("::1", None)
    with pytest.raises(BindError, match="needs a token"):
        check_bind("0.0.0.0", None)
    with pytest.raises(BindError):
        check_bind("192.168.1.20", "")
    config, _ = project
    result = CliRunner().invoke(cli, ["review", "--config", str(config), "--host", "0.0.0.0",
                                      "--token", ""])  # fmt: skip
    assert result.exit_code == 2
    assert "koe: error: --host 0.0.0.0 serves the workbench beyond this machine" in result.output


def test_koe_review_on_a_folder_that_is_no_run_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["review", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not a koe run folder: tagged.parquet, tags.csv" in result.output


def test_the_gold_file_grows_across_runs(tmp_path):
    from koe.workbench.gold import gold_from_decisions, write_gold

    tags = pd.DataFrame({"id": ["A", "A", "B"], "theme": ["t1", "t2", "t1"],
                         "polarity": ["positive", "neutral", "negative"]})  # fmt: skip
    decisions = pd.DataFrame({"comment_id": ["A", "B", "B"], "action": ["reject", "reject", "add"],
                              "theme": ["t1", "t1", "t3"],
                              "polarity": [None, None, "negative"]})  # fmt: skip
    gold = gold_from_decisions(tags, decisions)
    assert gold.to_numpy().tolist() == [["A", "t2", "neutral"], ["B", "t3", "negative"]]
    path = tmp_path / "review_gold.csv"
    assert write_gold(path, gold) == 2
    only_reject = gold_from_decisions(tags.assign(id=["C", "C", "D"]),
                                      decisions.assign(comment_id=["D", "D", "D"]).iloc[:2])
    assert only_reject.to_numpy().tolist() == [["D", "", ""]]  # reviewed, no theme left
    assert write_gold(path, only_reject) == 3
    assert pd.read_csv(path, dtype=str, keep_default_na=False)["id"].tolist() == ["A", "B", "D"]


def test_an_emergent_theme_is_renamed_in_the_store(bench):
    client = TestClient(create_app(bench))
    page = client.get("/theme/cluster_02").text
    form = {"csrf": hidden(page, "csrf"), "cluster_id": "cluster_02", "value": " 改善への期待 "}
    done = client.post("/clusters/rename", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert bench.store.cluster_names() == {"cluster_02": "改善への期待"}
    assert "<h1>改善への期待 <code>cluster_02</code>" in client.get("/theme/cluster_02").text
    assert client.post("/clusters/rename", data={**form, "cluster_id": "nope"}).status_code == 400
    assert client.post("/clusters/rename", data={**form, "value": " "}).status_code == 400
    bench.store.name_cluster("cluster_02", "")
    assert bench.store.cluster_names() == {}


def _serve(args: list[str]):
    """Start `koe review ...` in a process; returns (process, the URL it printed)."""
    import subprocess
    import sys

    koe = str(Path(sys.executable).parent / "koe")
    process = subprocess.Popen([koe, "review", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    line = process.stdout.readline()
    found = re.search(r"open (http://\S+)", line)
    assert found, line + (process.stdout.read() if process.poll() is not None else "")
    return process, found.group(1)


def _get(url: str, headers: dict | None = None) -> int:
    import time
    import urllib.error
    import urllib.request

    for _ in range(100):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (ConnectionError, urllib.error.URLError):
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def test_koe_review_serves_locally_and_beyond_only_with_its_token(project):
    from .test_workbench_browser import free_port

    config, run = project
    port = free_port()
    process, url = _serve([str(run), "--config", str(config), "--port", str(port)])
    try:
        assert url == f"http://localhost:{port}/"
        assert _get(url) == 200
        assert _get(f"http://127.0.0.1:{port}/theme/product_reports") == 200
    finally:
        process.terminate()
        process.wait(10)
    port = free_port()
    process, url = _serve([str(run), "--config", str(config), "--host", "0.0.0.0",
                           "--port", str(port)])  # fmt: skip
    try:
        token = url.split("?token=")[1]
        assert len(token) >= 32
        bare = f"http://127.0.0.1:{port}/"
        assert _get(bare) == 401
        assert _get(bare, {"Authorization": "Bearer wrong"}) == 401
        assert _get(bare, {"Authorization": f"Bearer {token}"}) == 200
    finally:
        process.terminate()
        process.wait(10)


def test_a_missed_theme_is_added_to_a_sentence_found_by_search(bench):
    client = TestClient(create_app(bench))
    page = client.get("/search", params={"q": "毎回待たされて"}).text
    assert page.count("<article") == 1 and "画面の切り替えで毎回待たされてしまう。" in page
    form = {"csrf": hidden(page, "csrf"), "action": "add", "comment_id": "R9103",
            "sentence_idx": "0", "theme": "product_performance", "polarity": "negative",
            "next": "/search?q=x"}  # fmt: skip
    assert client.post("/decide", data=form, follow_redirects=False).status_code == 303
    decided = bench.store.decisions().iloc[0]
    assert (decided["sentence"], decided["theme"], decided["polarity"]) == \
        ("画面の切り替えで毎回待たされてしまう。", "product_performance", "negative")  # fmt: skip
    assert client.post("/decide", data={**form, "sentence_idx": "3"}).status_code == 400
    assert client.post("/decide", data={**form, "comment_id": "nope"}).status_code == 400
    assert client.post("/decide", data={**form, "theme": "no_theme"}).status_code == 400
    gold = pd.read_csv(bench.gold_path, dtype=str, keep_default_na=False)
    assert ("R9103", "product_performance", "negative") in set(map(tuple, gold.to_numpy()))


def test_lists_broken_by_hand_while_it_runs_say_so(bench):
    client = TestClient(create_app(bench))
    assert client.get("/").status_code == 200
    (bench.lists / "saas.yaml").write_text("themes: [oops\n", encoding="utf-8")
    broken = client.get("/theme/product_reports")
    assert broken.status_code == 500 and "the lookup lists do not load" in broken.text
    assert "saas.yaml" in broken.text
