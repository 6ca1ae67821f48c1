"""A full disk under ``--out`` (issue 18): one ``koe: error:`` line, exit 1, the run marked
``failed``, its ``.partial`` folder removed, its lock released; the next run succeeds.

- ``disk_full`` recognizes the shapes a full disk takes (OSError ENOSPC / EDQUOT, pyarrow's
  message-only OSError, SQLite's SQLITE_FULL under SQLAlchemy, chained or grouped);
- ``RunStore.open_run`` ends a run that raised even when the store's own writes fail;
- ``koe run`` in this process with the XLSX writer raising ENOSPC (any machine);
- ``koe run`` in a subprocess on a real, tiny tmpfs (root only; skipped where mount is refused).
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from koe import outputs
from koe.cli import app
from koe.core.errors import describe_disk_full, disk_full
from koe.store import RunStore

from .conftest import FIXTURES, ROOT
from .runfolders import frozen_config, run_folders

MINI = str(FIXTURES / "mini_survey.csv")
KOE = "import sys; from koe.cli import app; sys.argv[0] = 'koe'; app()"
FAST = "cluster: {enabled: false}\npolarity_model: none\n"


def enospc(path: str = "") -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), *([path] if path else []))


def sqlite_full() -> sa.exc.OperationalError:
    """A real SQLITE_FULL, raised through SQLAlchemy (a page limit stands in for the disk)."""
    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x TEXT)")
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        conn.exec_driver_sql(f"PRAGMA max_page_count = {pages}")
        try:
            conn.exec_driver_sql("INSERT INTO t VALUES (?)", ("x" * 100_000,))
        except sa.exc.OperationalError as exc:
            return exc
    raise AssertionError("the insert did not fail")


def chained(outer: Exception, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException:
            raise outer  # noqa: B904 (an implicit __context__, as in a failing cleanup)
    except Exception as exc:
        return exc


def test_disk_full_is_recognized_in_its_shapes():
    assert disk_full(enospc()) is not None
    assert disk_full(OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))) is not None
    assert disk_full(OSError("Error writing bytes to file. Detail: [errno 28] No space left "
                             "on device")) is not None  # pyarrow: a message, no errno  # fmt: skip
    db = sqlite_full()
    assert isinstance(disk_full(db), sqlite3.OperationalError)
    assert describe_disk_full(disk_full(db)) == "database or disk is full"
    found = disk_full(chained(RuntimeError("cleanup failed"), enospc("/x/report.html")))
    assert describe_disk_full(found) == "No space left on device: /x/report.html"
    assert disk_full(ExceptionGroup("tasks", [ValueError("a"), enospc()])) is not None
    for other in (OSError(errno.EACCES, "Permission denied"), ValueError("no space"),
                  RuntimeError("database is locked"), None):  # fmt: skip
        assert disk_full(other) is None


def test_open_run_ends_a_failed_run_even_when_the_store_cannot_write(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    store = RunStore(f"sqlite:///{tmp_path / 'state.sqlite'}", deferred=True)
    # the store's own writes fail as well: marking the run failed, releasing the lock
    monkeypatch.setattr(store, "finish_run", lambda *a, **k: (_ for _ in ()).throw(sqlite_full()))
    monkeypatch.setattr(store, "release_lock", lambda: (_ for _ in ()).throw(sqlite_full()))
    with pytest.raises(OSError) as raised:  # the body's error, not the store's
        with store.open_run(out, "in.csv") as run:
            (out / f".{run.run_id}.partial" / "routed").mkdir(parents=True)
            (out / f".{run.run_id}.partial" / "report.html").write_text("half")
            raise enospc()
    assert raised.value.errno == errno.ENOSPC
    notes = raised.value.__notes__
    assert any("could not mark run" in n for n in notes)
    assert any("could not release the run lock" in n for n in notes)
    assert list(out.iterdir()) == []  # the partial folder is gone: it was filling the disk
    monkeypatch.undo()
    # the lock row is left to a process that is exiting; the next run reclaims it when dead
    fresh = RunStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    assert fresh.lock_holder()["pid"] == os.getpid()


def test_open_run_marks_the_run_failed_when_recording_its_end_fails(tmp_path, monkeypatch):
    store = RunStore(f"sqlite:///{tmp_path / 'state.sqlite'}", deferred=True)
    real = store.finish_run

    def finish(run_id, status, manifest=None):
        if status == "completed":
            raise sqlite_full()
        real(run_id, status, manifest)

    monkeypatch.setattr(store, "finish_run", finish)
    with pytest.raises(sa.exc.OperationalError):
        with store.open_run(tmp_path, "in.csv"):
            pass
    fresh = RunStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    assert [r["status"] for r in fresh.runs()] == ["failed"]
    assert fresh.lock_holder() is None


def assert_one_error_line(stderr: str) -> str:
    errors = [line for line in stderr.splitlines() if line.startswith("koe: error:")]
    assert len(errors) == 1, stderr
    assert "disk full" in errors[0] and "No space left on device" in errors[0], errors[0]
    assert "Traceback" not in stderr, stderr
    return errors[0]


def assert_failed_and_clean(out: Path, statuses: list[str]) -> None:
    store = RunStore(f"sqlite:///{out / 'koe_state.sqlite'}")
    assert [r["status"] for r in store.runs()] == statuses
    assert store.lock_holder() is None
    assert list(out.glob(".*.partial")) == [] and run_folders(out) == []
    store.close()


@pytest.mark.slow
def test_koe_run_on_a_full_disk_fails_cleanly_and_the_next_run_succeeds(
    prefect_harness, tmp_path, monkeypatch
):
    from koe.flows import tasks

    config, out = frozen_config(tmp_path, FAST), tmp_path / "out"

    def full_disk(frame, path, **kwargs):
        Path(path).write_bytes(b"PK\x03\x04")  # the first bytes fit, the rest does not
        raise enospc(str(path))

    monkeypatch.setattr(outputs, "write_xlsx", full_disk)
    for io_task in (tasks.write_routed, tasks.write_close_the_loop):
        monkeypatch.setattr(io_task, "retry_delay_seconds", 0)  # retries without the waits
    args = ["run", "--input", MINI, "--out", str(out), "--config", str(config)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    line = assert_one_error_line(result.stderr)
    assert str(out) in line and ".xlsx" in line
    assert_failed_and_clean(out, ["failed"])

    monkeypatch.undo()  # room again: the same store, the same folder
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    store = RunStore(f"sqlite:///{out / 'koe_state.sqlite'}")
    assert [r["status"] for r in store.runs()] == ["failed", "completed"]
    assert len(run_folders(out)) == 1 and store.lock_holder() is None


@pytest.fixture
def tiny_disk():
    """A 16 MiB tmpfs (root only), nearly filled by a ballast file; yields (mount, ballast)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("a real full disk needs root to mount a tmpfs (Linux)")
    mount = Path(tempfile.mkdtemp(prefix="koe-tiny-disk-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        mount.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        ballast = mount / "ballast"
        with ballast.open("wb") as f:  # leave 1 MiB: the state database fits, the run not
            f.write(b"\0" * (15 * 2**20))
        yield mount, ballast
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()


@pytest.mark.slow
def test_koe_run_on_a_real_full_tmpfs(prefect_harness, tiny_disk, tmp_path):
    from prefect.settings import PREFECT_API_URL

    mount, ballast = tiny_disk
    config, out = frozen_config(tmp_path, FAST), mount / "out"
    env = os.environ | {"PREFECT_API_URL": str(PREFECT_API_URL.value())}
    command = [sys.executable, "-c", KOE, "run", "--input", MINI, "--out", str(out),
               "--config", str(config)]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 1, done.stdout + done.stderr
    assert_one_error_line(done.stderr)
    assert_failed_and_clean(out, ["failed"])

    ballast.unlink()  # room again: the same store on the same disk
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    store = RunStore(f"sqlite:///{out / 'koe_state.sqlite'}")
    assert [r["status"] for r in store.runs()] == ["failed", "completed"]
    assert store.lock_holder() is None and len(run_folders(out)) == 1
    store.close()
