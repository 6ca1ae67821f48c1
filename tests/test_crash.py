"""Crash safety: `koe run` killed with SIGKILL at several stages, then run again.

Each killed run is a real `koe run` subprocess (against the session's Prefect API) paused by the
``KOE_PAUSE_AT`` hook in flows/nightly.py and killed there: after tagging (nothing written yet),
with its ``.partial`` folder complete but not renamed, and after the rename but before the
run-state store was updated. The re-run must reclaim the dead run's lock at once, never read or
keep a half-written folder, and write a folder equal to an uninterrupted run's (tests/
runfolders.py: byte for byte except timing fields).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from koe.cli import app
from koe.store import RunStore
from koe.store.locks import process_alive

from .conftest import FIXTURES, ROOT
from .runfolders import assert_same_run, frozen_config, run_folders

pytestmark = pytest.mark.slow

STAGES = ["tagged", "written", "committed"]
MINI = str(FIXTURES / "mini_survey.csv")
KOE = "import sys; from koe.cli import app; sys.argv[0] = 'koe'; app()"


def koe_run(out, config) -> str:
    args = ["run", "--input", MINI, "--out", str(out), "--config", str(config)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def crashes(prefect_harness, tmp_path_factory):
    """One `koe run` subprocess per stage, all started at once and each SIGKILLed when it
    reaches its stage, and meanwhile an uninterrupted run in this process (the reference)."""
    from prefect.settings import PREFECT_API_URL

    base = tmp_path_factory.mktemp("crash")
    # no embedding model to load in four processes on 2 cores: the deferred embedding writes
    # are covered by tests/test_store_incremental.py and tests/test_incremental.py
    config = frozen_config(base, "cluster: {enabled: false}\npolarity_model: none\n")
    env = os.environ | {"PREFECT_API_URL": str(PREFECT_API_URL.value())}
    runs = {}
    try:
        for stage in STAGES:
            out, pause, log = base / stage, base / f"{stage}.pause", base / f"{stage}.log"
            with log.open("wb") as f:
                proc = subprocess.Popen(
                    [sys.executable, "-c", KOE, "run", "--input", MINI, "--out", str(out),
                     "--config", str(config)],
                    env=env | {"KOE_PAUSE_AT": stage, "KOE_PAUSE_FILE": str(pause)},
                    cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            runs[stage] = (proc, out, pause, log)
        koe_run(base / "reference", config)
        (reference,) = run_folders(base / "reference")
        deadline = time.monotonic() + 240
        for stage, (proc, _, pause, log) in runs.items():
            while not pause.exists():
                assert proc.poll() is None, f"{stage}: exited early:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"{stage}: never paused:\n{log.read_text()}"
                time.sleep(0.1)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    finally:
        for proc, *_ in runs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    killed = {stage: (out, int(pause.read_text().split()[0]))
              for stage, (_, out, pause, _) in runs.items()}  # fmt: skip
    return killed, reference, config


@pytest.mark.parametrize("stage", STAGES)
def test_a_killed_run_is_recovered_and_the_rerun_equals_an_uninterrupted_run(crashes, stage):
    killed, reference, config = crashes
    out, pid = killed[stage]
    # What the kill left behind: never a half-written run folder under a final name.
    partial = list(out.glob(".*.partial"))
    if stage == "tagged":
        assert run_folders(out) == [] and partial == []
    elif stage == "written":
        assert run_folders(out) == [] and len(partial) == 1
    else:  # renamed just before the kill: complete, and equal to an uninterrupted run
        (done,) = run_folders(out)
        assert_same_run(done, reference)
    store = RunStore(f"sqlite:///{out / 'koe_state.sqlite'}")
    holder = store.lock_holder()
    assert holder["pid"] == pid and not process_alive(pid, holder["pid_started"])
    counts = store.table_counts()
    # the killed run wrote nothing but its runs row: its writes wait for completion
    assert {t: counts[t] for t in ("comments", "comment_rows", "embeddings", "tag_cache",
                                   "source_files")} == dict.fromkeys(
        ("comments", "comment_rows", "embeddings", "tag_cache", "source_files"), 0)  # fmt: skip
    assert [r["status"] for r in store.runs()] == ["running"]

    t0 = time.monotonic()
    output = koe_run(
        out, config
    )  # the default lock_timeout_s is 600 s: the stale lock must not wait
    assert "finished" in output and time.monotonic() - t0 < 120
    rerun = run_folders(out)[-1]
    assert_same_run(rerun, reference)
    assert list(out.glob(".*.partial")) == []  # the killed run's partial folder is gone
    assert [r["status"] for r in store.runs()] == ["crashed", "completed"]
    assert store.lock_holder() is None
    counts = store.table_counts()
    assert counts["comments"] == counts["comment_rows"] == 28
    assert counts["source_files"] == 1
