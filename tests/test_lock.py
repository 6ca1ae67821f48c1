"""One run at a time per run-state store: the lock in koe.store, across real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from koe.cli import app
from koe.store import LockTimeout, RunStore
from koe.store.locks import process_alive, process_start_time
from koe.store.schema import locks_table

from .conftest import FIXTURES, ROOT

HOLDER = """
import json, sys, time
from koe.store import RunStore
url, log, hold, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
store = RunStore(url)
store.acquire_lock(timeout_s=timeout)
start = time.time()
with open(log, "a") as f:
    f.write(json.dumps({"event": "acquired", "t": start}) + "\\n")
time.sleep(hold)
with open(log, "a") as f:
    f.write(json.dumps({"event": "releasing", "t": time.time(), "start": start}) + "\\n")
store.close()
"""


def hold_lock(url: str, log: Path, hold: float, timeout: float = 30) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, str(log), str(hold), str(timeout)], cwd=ROOT
    )


def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def events(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_two_processes_never_hold_the_lock_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    RunStore(url).close()  # create the tables first
    log = tmp_path / "log.jsonl"
    procs = [hold_lock(url, log, hold=1.0) for _ in range(2)]
    for p in procs:
        assert p.wait(60) == 0
    intervals = sorted((e["start"], e["t"]) for e in events(log) if e["event"] == "releasing")
    assert len(intervals) == 2
    (_, end1), (start2, _) = intervals
    assert start2 >= end1, f"interleaved: {intervals}"  # the second waited for the first
    assert RunStore(url).lock_holder() is None  # released


def test_a_second_run_gives_up_with_a_clear_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    log = tmp_path / "log.jsonl"
    holder = hold_lock(url, log, hold=30)
    try:
        wait_for(lambda: events(log))
        store = RunStore(url)
        t0 = time.monotonic()
        with pytest.raises(LockTimeout) as info:
            store.acquire_lock(timeout_s=0.5)
        assert 0.5 <= time.monotonic() - t0 < 5
        message = str(info.value)
        assert f"pid {holder.pid} on {socket.gethostname()}" in message
        assert "another koe run holds the run lock of sqlite:///" in message
        assert "gave up after waiting 0.5 s" in message
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_of_a_killed_process_is_reclaimed_and_its_run_marked_crashed(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    code = (
        "import sys, time\nfrom koe.store import RunStore\n"
        "s = RunStore(sys.argv[1]); s.acquire_lock(); s.start_run('r1', 'in.csv')\n"
        "print('held', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, url], cwd=ROOT, stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"held"
    holder = RunStore(url).lock_holder()
    assert holder["pid"] == proc.pid and holder["run_id"] == "r1"
    assert process_alive(holder["pid"], holder["pid_started"])
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not process_alive(holder["pid"], holder["pid_started"])
    store = RunStore(url)
    t0 = time.monotonic()
    store.acquire_lock(timeout_s=0)  # no waiting: the owner is dead
    assert time.monotonic() - t0 < 2
    assert store.lock_holder()["pid"] == os.getpid()
    assert [(r["run_id"], r["status"]) for r in store.runs()] == [("r1", "crashed")]
    store.close()
    assert RunStore(url).lock_holder() is None


def _plant_lock(url: str, **row) -> None:
    store = RunStore(url)
    values = {"name": "run", "owner": "x" * 32, "pid": os.getpid(), "host": socket.gethostname(),
              "pid_started": process_start_time(os.getpid()), "run_id": "r0",
              "acquired_at": sa.func.current_timestamp()} | row  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(locks_table.insert().values(**values))
    store.close()


def test_a_recycled_pid_does_not_keep_a_stale_lock(tmp_path):
    if not Path("/proc/self/stat").exists():
        pytest.skip("process start times need /proc")
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    _plant_lock(url, pid_started="1")  # this pid, but a process that started at another time
    store = RunStore(url)
    store.acquire_lock(timeout_s=0)
    assert store.lock_holder()["owner"] != "x" * 32
    store.close()


def test_a_lock_from_another_host_is_never_broken_silently(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    _plant_lock(url, host="batch-02", pid=1)
    store = RunStore(url)
    with pytest.raises(LockTimeout, match=r"pid 1 on batch-02.*`koe unlock`"):
        store.acquire_lock(timeout_s=0.2, poll_s=0.05)
    assert store.break_lock()["host"] == "batch-02"
    store.acquire_lock(timeout_s=0)
    store.close()


@pytest.mark.slow
def test_koe_run_exits_with_the_message_while_another_run_holds_the_lock(prefect_harness, tmp_path):
    out = tmp_path / "runs"
    out.mkdir()
    url = f"sqlite:///{(out / 'koe_state.sqlite').resolve()}"
    log = tmp_path / "log.jsonl"
    holder = hold_lock(url, log, hold=60)
    try:
        wait_for(lambda: events(log))
        config = tmp_path / "koe.yaml"
        config.write_text("lock_timeout_s: 1\n", encoding="utf-8")
        result = CliRunner().invoke(
            app, ["run", "--input", str(FIXTURES / "mini_survey.csv"), "--out", str(out),
                  "--config", str(config)],
        )  # fmt: skip
        assert result.exit_code == 2, result.output
        assert "koe: error: another koe run holds the run lock" in result.output
        assert f"pid {holder.pid}" in result.output
        assert not [p for p in out.iterdir() if p.is_dir()]  # no run folder, not even .partial
    finally:
        holder.kill()
        holder.wait()


def test_koe_unlock_removes_a_lock_left_by_another_machine(tmp_path):
    url = f"sqlite:///{(tmp_path / 'koe_state.sqlite').resolve()}"
    _plant_lock(url, host="batch-02", pid=4242, run_id="20261101T020000Z")
    result = CliRunner().invoke(app, ["unlock", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "removed the run lock of run 20261101T020000Z: pid 4242 on batch-02" in result.output
    assert RunStore(url).lock_holder() is None
    result = CliRunner().invoke(app, ["unlock", "--out", str(tmp_path)])
    assert "no run lock on sqlite:///" in result.output
