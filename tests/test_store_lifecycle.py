"""RunStore.open_run: a run's lifecycle under the lock — completed, skipped, failed, refused."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from koe.store import LockTimeout, RunStore
from koe.store import runs as store_runs
from koe.store.runs import new_run_id


def store_at(tmp_path, *, deferred: bool = True) -> RunStore:
    return RunStore(f"sqlite:///{tmp_path / 'state.sqlite'}", deferred=deferred)


def test_a_run_id_is_the_utc_start_time():
    assert new_run_id(datetime(2026, 12, 5, 21, 21, 40, tzinfo=UTC)) == "20261205T212140Z"


def test_a_completed_run_writes_its_deferred_writes_and_releases_the_lock(tmp_path):
    store = store_at(tmp_path)
    with store.open_run(tmp_path, "in.csv") as run:
        holder = store.lock_holder()
        assert (holder["run_id"], holder["pid"]) == (run.run_id, os.getpid())
        assert [(r["run_id"], r["status"], r["input_path"]) for r in store.runs()] == [
            (run.run_id, "running", "in.csv")
        ]
        store.record_comments(run.run_id, ["a", "b"], ["返信が遅い", "丁寧"])
        assert store.table_counts()["comments"] == 0  # deferred until the run completes
        run.manifest = {"counts": {"input_rows": 2}}
    assert run.run_id == new_run_id(run.started) and run.status == "completed"
    check = store_at(tmp_path, deferred=False)
    (row,) = check.runs()
    assert (row["status"], json.loads(row["manifest"])) == (
        "completed",
        {"counts": {"input_rows": 2}},
    )
    assert row["ended_at"] is not None
    assert check.table_counts()["comments"] == 2
    assert check.lock_holder() is None


def test_a_skipped_night_is_recorded_without_its_writes(tmp_path):
    store = store_at(tmp_path)
    with store.open_run(tmp_path, "exports/") as run:
        store.mark_files_processed(run.run_id, [("exports/day1.csv", "0" * 64, 3)])
        run.status = "skipped"
    check = store_at(tmp_path, deferred=False)
    assert [(r["status"], r["manifest"]) for r in check.runs()] == [("skipped", None)]
    assert check.table_counts()["source_files"] == 0
    assert check.lock_holder() is None


@pytest.mark.parametrize("error", [ZeroDivisionError, KeyboardInterrupt])
def test_a_run_that_raises_is_failed_its_writes_dropped_and_the_lock_released(tmp_path, error):
    store = store_at(tmp_path)
    with pytest.raises(error), store.open_run(tmp_path, "in.csv") as run:
        store.record_comments(run.run_id, ["a"], ["返信が遅い"])
        raise error
    check = store_at(tmp_path, deferred=False)
    assert [(r["run_id"], r["status"], r["manifest"]) for r in check.runs()] == [
        (run.run_id, "failed", None)
    ]
    assert check.table_counts()["comments"] == 0
    assert store.pending_counts()["comments"] == 0
    assert check.lock_holder() is None
    with store_at(tmp_path).open_run(tmp_path, "in.csv"):  # the next night runs
        pass
    assert [r["status"] for r in check.runs()] == ["failed", "completed"]


def test_a_run_refused_the_lock_leaves_no_trace(tmp_path):
    holder = store_at(tmp_path)
    holder.acquire_lock()
    waits: list[str] = []
    store = store_at(tmp_path)
    with (
        pytest.raises(LockTimeout),
        store.open_run(tmp_path, "in.csv", lock_timeout_s=0.3, on_wait=waits.append),
    ):
        pytest.fail("the body must not run without the lock")
    assert len(waits) == 1 and waits[0].endswith("; waiting up to 0.3 s")
    assert store.runs() == []
    assert store.lock_holder()["owner"] == holder._lock["owner"]
    holder.close()


def test_a_run_id_taken_by_a_run_folder_gets_a_suffix(tmp_path, monkeypatch):
    monkeypatch.setattr(store_runs, "new_run_id", lambda now=None: "20261101T020000Z")
    (tmp_path / "20261101T020000Z").mkdir()
    (tmp_path / ".20261101T020000Z-2.partial").mkdir()
    with store_at(tmp_path).open_run(tmp_path, "in.csv") as run:
        pass
    assert run.run_id == "20261101T020000Z-3"
