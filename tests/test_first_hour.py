"""An analyst's first hour: bad input is one line and exit 2 before Prefect starts, config
errors name the right line, --version, readable help, the built-in polarity lexicon by default,
and `koe themes accept --out`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from koe.cli import app
from koe.taggers.lookup import LookupTagger
from koe.taggers.polarity import PolarityLexicon, pattern_of

from .conftest import FIXTURES

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
KOE = "import sys; from koe.cli import app; sys.argv = ['koe', *sys.argv[1:]]; app()"
VISIT_LIST = ROOT / "tests" / "gold" / "fukui_visit" / "lists" / "visit.yaml"


def bad_inputs(tmp: Path) -> dict[str, tuple[list[str], str]]:
    (tmp / "empty.csv").write_bytes(b"")
    (tmp / "binary.csv").write_bytes(bytes(range(256)) * 20)
    (tmp / "noscore.csv").write_text("id,text\n1,駐車場が狭い\n", encoding="utf-8")
    (tmp / "notes.docx").write_text("x", encoding="utf-8")
    (tmp / "a_file").write_text("x", encoding="utf-8")
    return {
        "missing": (["--input", str(tmp / "nope.csv")], "file not found"),
        "empty": (["--input", str(tmp / "empty.csv")], "is empty"),
        "binary": (["--input", str(tmp / "binary.csv")], "encoding"),
        "no score column": (["--input", str(tmp / "noscore.csv")], "missing required column"),
        "unsupported type": (["--input", str(tmp / "notes.docx")], "unsupported file type"),
        "--out is a file": (["--out", str(tmp / "a_file")], "is a file"),
        "--out under a file": (["--out", str(tmp / "a_file" / "runs")], "is a file"),
    }


@pytest.mark.parametrize("case", ["missing", "empty", "binary", "no score column",
                                  "unsupported type", "--out is a file", "--out under a file"])
def test_bad_input_is_one_line_and_exit_2_before_prefect_starts(case, tmp_path, monkeypatch):
    import koe.prefect_env

    started = []
    monkeypatch.setattr(koe.prefect_env, "start_local_api", lambda: started.append(1))
    args, message = bad_inputs(tmp_path)[case]
    result = runner.invoke(app, ["run", *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("koe: error:") and message in lines[0], lines
    assert not started  # Prefect never started


def test_koe_run_on_a_missing_file_answers_in_under_3_seconds(tmp_path):
    env = {**os.environ, "KOE_HOME": str(tmp_path)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", KOE, "run", "--input", str(tmp_path / "x.csv")],
                          capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=60)  # fmt: skip
    elapsed = time.perf_counter() - start
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"koe: error: file not found: {tmp_path / 'x.csv'}"]
    assert "Traceback" not in done.stdout + done.stderr and "prefect" not in done.stderr.lower()
    assert elapsed < 3.0, elapsed


def as_unprivileged_user() -> list[str]:
    """A command prefix that drops root (root writes in a read-only folder), else nothing."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]


def test_an_out_folder_koe_cannot_write_is_one_line_and_exit_2(tmp_path):
    """A real read-only folder, as a user without root (setpriv, util-linux, when root)."""
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    for folder in (tmp_path, *tmp_path.parents):  # the unprivileged user must reach it
        if folder.stat().st_mode & 0o005 != 0o005:
            folder.chmod(folder.stat().st_mode | 0o005)
    env = {**os.environ, "KOE_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)}
    done = subprocess.run([*as_unprivileged_user(), sys.executable, "-c", KOE, "run",
                           "--out", str(readonly / "runs")],
                          capture_output=True, text=True, env=env, cwd=readonly,
                          timeout=60)  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [
        f"koe: error: --out {readonly / 'runs'}: cannot write in {readonly}"]
    assert not (readonly / "runs").exists()


def test_a_config_error_names_the_line_of_the_key(tmp_path):
    config = tmp_path / "wrongtype.yaml"
    config.write_text("out: runs\nsegments: エリア\ncluster:\n  max_groups: many\n",
                      encoding="utf-8")  # fmt: skip
    result = runner.invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert f"{config}:2: segments:" in result.output
    config.write_text("out: runs\ncluster:\n  enabled: true\n  max_groups: many\n", encoding="utf-8")
    assert f"{config}:4: cluster.max_groups:" in runner.invoke(app, ["run", "--config",
                                                                    str(config)]).output


def test_version_and_help_without_markup_litter():
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"koe {version('koe')}"
    help_text = runner.invoke(app, ["tag", "--help"], terminal_width=100).output
    assert "``" not in help_text and "--chunk-rows rows at a time" in " ".join(help_text.split())


def test_koe_tag_on_a_folder_says_it_is_a_folder(tmp_path):
    result = runner.invoke(app, ["tag", "--input", str(tmp_path), "--out", str(tmp_path / "t.csv")])
    assert result.exit_code == 2
    assert "is a folder" in result.output and "not found" not in result.output


def test_a_list_folder_without_polarity_yaml_uses_koes_lexicon(tmp_path):
    (tmp_path / "visit.yaml").write_bytes(VISIT_LIST.read_bytes())
    tagger = LookupTagger.from_folder(tmp_path)
    builtin = PolarityLexicon.for_folder(ROOT / "lookup_lists")
    assert tagger.lexicon.positive == builtin.positive and len(builtin.positive) > 100
    from koe import pipeline

    comments = pd.DataFrame({"id": ["a", "b"],
                             "text": ["駐車場が狭くて困った。", "景色が素晴らしかった。"]})  # fmt: skip
    tags = tagger.tag(pipeline.sentences_of(comments)).set_index("id")
    assert tags.loc["a", "polarity"] == "negative" and tags.loc["b", "polarity"] == "positive"
    # the folder's own polarity.yaml extends koe's: a new word, and a word that changes sign
    (tmp_path / "polarity.yaml").write_text("positive: [渋い]\nnegative: [安い]\n", encoding="utf-8")
    extended = LookupTagger.from_folder(tmp_path).lexicon
    assert pattern_of("渋い") in extended.positive and pattern_of("安い") in extended.negative
    assert pattern_of("安い") not in extended.positive
    assert set(builtin.positive) - {pattern_of("安い")} <= set(extended.positive)
    (tmp_path / "polarity.yaml").write_text("replace_builtin: true\npositive: [渋い]\n",
                                            encoding="utf-8")  # fmt: skip
    assert LookupTagger.from_folder(tmp_path).lexicon.positive == (pattern_of("渋い"),)


def test_themes_accept_reads_the_runs_folder_given_by_out(tmp_path, monkeypatch):
    import shutil

    from koe.discovery import write_discovery

    lists = tmp_path / "lists"
    shutil.copytree(ROOT / "lookup_lists", lists)
    run = tmp_path / "elsewhere" / "20261101T020000Z"
    write_discovery(run, pd.DataFrame(), pd.DataFrame(
        {"cluster_id": ["cluster_01"], "label": ["駐車場"], "keywords": ["駐車場"],
         "catch_keywords": ["駐車場"], "representatives": ["駐車場が狭い。"]}))  # fmt: skip
    monkeypatch.chdir(tmp_path)  # no ./koe_runs here
    args = ["themes", "accept", "cluster_01", "--as", "parking", "--lists", str(lists)]
    assert runner.invoke(app, args).exit_code == 2  # not found in ./koe_runs
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "elsewhere")])
    assert result.exit_code == 0, result.output
    assert "parking" in (lists / "accepted.yaml").read_text(encoding="utf-8")


def test_fixture_run_still_passes_preflight():
    from koe.cli.common import preflight

    cfg = preflight(None, None, {}, FIXTURES / "mini_survey.csv")
    assert cfg.input == FIXTURES / "mini_survey.csv"


def test_a_list_that_does_not_fit_the_data_is_said_in_the_summary_manifest_and_report(
    prefect_harness, tmp_path
):
    """Real tourism answers (tests/gold/fukui_visit, CC BY 4.0) with koe's default SaaS lists,
    through the real nightly flow."""
    import json

    gold = pd.read_csv(ROOT / "tests" / "gold" / "fukui_visit" / "test_comments.csv", dtype=str)
    night = gold.head(80).rename(columns={"nps": "score"})[["id", "score", "text"]]
    night.to_csv(tmp_path / "tourism.csv", index=False)
    result = runner.invoke(app, ["run", "--input", str(tmp_path / "tourism.csv"),
                                 "--out", str(tmp_path / "runs")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "note: 辞書がこのデータに合っていない可能性があります" in result.output
    folder = Path(result.output.split("finished: ")[1].split()[0])
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    fit = manifest["list_fit"]
    assert fit["fits"] is False and fit["coverage"] < 0.35 and fit["answered"] >= 70
    assert any("lookup lists may not fit" in m for m in manifest["messages"])
    assert "辞書がこのデータに合っていない" in (folder / "report.html").read_text(encoding="utf-8")


def test_the_sample_fits_its_lists():
    from koe.manifest import list_fit

    counts = {"accepted": 480, "non_answers": 40, "tagged_with_theme": 418,
              "lookup_mentions": 600, "semantic_mentions": 20, "cluster_mentions": 150}  # fmt: skip
    assert list_fit(counts)["fits"] is True
    assert list_fit({**counts, "tagged_with_theme": 100})["fits"] is False
    assert list_fit({"accepted": 10, "non_answers": 0, "tagged_with_theme": 0})["fits"] is True


def test_koe_init_writes_a_project_that_runs_and_routes_to_its_own_departments(
    prefect_harness, tmp_path
):
    from koe.config import load_config

    project = tmp_path / "proj"
    result = runner.invoke(app, ["init", str(project)])
    assert result.exit_code == 0, result.output
    config = load_config(project / "koe.yaml")  # the strict loader accepts it
    assert config.lookup_lists == project / "lookup_lists"
    assert [r.to for r in config.routing_rules()] == ["operations", "triage"]
    assert not (project / "lookup_lists" / "polarity.yaml").exists()  # koe's lexicon is used
    assert runner.invoke(app, ["init", str(project)]).exit_code == 2  # never overwrites
    rows = "id,score,text,date\n" + "".join(
        f"r{i},{s},{t},2026-12-01\n" for i, (s, t) in enumerate(
            [(2, "駐車場が狭くて停められなかった。"), (3, "駐車場が少なすぎる。"),
             (10, "景色が最高でした。"), (9, "また来たい。")]))  # fmt: skip
    (project / "export.csv").write_text(rows, encoding="utf-8")
    result = runner.invoke(app, ["run", "--config", str(project / "koe.yaml"),
                                 "--input", str(project / "export.csv")])  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = Path(result.output.split("finished: ")[1].split()[0])
    assert folder.parent == project / "koe_runs"
    routed = pd.read_csv(folder / "routed" / "operations.csv", dtype=str)
    assert set(routed["id"]) == {"r0", "r1"}
    assert routed["routed_by"].str.contains("rule:operations_follow_up").all()


def test_koe_init_saas_template_copies_the_lists_and_routes_every_department(tmp_path):
    from koe.config import load_config

    assert runner.invoke(app, ["init", str(tmp_path), "--template", "saas"]).exit_code == 0
    config = load_config(tmp_path / "koe.yaml")
    targets = {r.to for r in config.routing_rules()}
    assert {"support", "product", "sales", "marketing", "triage"} <= targets
    assert runner.invoke(app, ["init", str(tmp_path / "x"), "--template", "nope"]).exit_code == 2
