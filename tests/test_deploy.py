"""The deployment in prefect.yaml, for real, with the README's commands.

A Prefect server on 127.0.0.1 (a free port, a temporary PREFECT_HOME, analytics off), the
process work pool, ``prefect deploy`` from prefect.yaml, a worker, and two flow runs of
koe-nightly: one on tests/fixtures/mini_survey.csv that must complete and write its run folder,
one with a bad config that must fail at once, without a retry. Every process the test starts is
stopped, also when it fails.

The server starts on a copy of the session's already-migrated Prefect database (the
``prefect_harness`` fixture's): a fresh database spends ~30 s in migrations on 2 cores and
behaves the same afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import FIXTURES, ROOT

pytestmark = pytest.mark.slow

EXPECTED_FILES = ["manifest.json", "tagged.parquet", "tags.csv", "drivers.csv", "report.html",
                  "quarantine.csv", "routed/support.csv"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Stop a process started in its own session, and everything it started."""
    if proc.poll() is None:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
    try:  # children of a process that exited on its own (the worker's flow runs)
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def started(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield proc
        finally:
            stop(proc)


def prefect_cli(*args: str, env: dict[str, str], timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "prefect", "--no-prompt", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"prefect {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the server exited:\n{log.read_text(errors='replace')}"
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"no server at {url} after {timeout} s:\n{log.read_text()}")


def api_call(api: str, method: str, path: str, body: dict | None = None) -> dict:
    """One call of the Prefect REST API."""
    request = urllib.request.Request(
        f"{api}{path}", method=method, headers={"Content-Type": "application/json"},
        data=json.dumps(body).encode() if body is not None else None,
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def copy_migrated_database(target: Path) -> None:
    """Copy the harness's Prefect database (SQLite backup API: a consistent snapshot)."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    url = PREFECT_SERVER_DATABASE_CONNECTION_URL.value() or ""
    source = Path(url.split(":///", 1)[1]) if url.startswith("sqlite") else None
    if source is None or not source.is_file():
        return  # the server migrates a fresh database instead (slower, same result)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def test_prefect_yaml_deploys_and_a_worker_runs_the_flow(prefect_harness, tmp_path):
    t0 = time.monotonic()
    home = tmp_path / "prefect_home"
    home.mkdir()
    copy_migrated_database(home / "prefect.db")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")
    } | {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # telemetry off: server
        "DO_NOT_TRACK": "1",  # and Prefect's client-side SDK analytics
        "PREFECT_SERVER_UI_ENABLED": "false",
        # no scheduled 02:00 runs during the test; the deployment's schedule is asserted below
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "KOE_PROJECT_DIR": str(ROOT),
    }  # fmt: skip
    out = tmp_path / "runs"
    bad_config = tmp_path / "bad.yaml"
    bad_config.write_text("seed: 1\ncluster:\n  min_cluster_size: one\n", encoding="utf-8")
    server_log, worker_log = tmp_path / "server.log", tmp_path / "worker.log"
    server_cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                  "--port", str(port), "--no-ui", "--analytics-off"]  # fmt: skip
    with started(server_cmd, env, server_log) as server:
        wait_healthy(api, server, server_log)
        t_server = time.monotonic() - t0
        prefect_cli("work-pool", "create", "koe-process", "--type", "process", env=env)
        params = {"input_path": str(FIXTURES / "mini_survey.csv"), "output_root": str(out)}
        prefect_cli("deploy", "--name", "koe-nightly", "--params", json.dumps(params), env=env)
        deployment = api_call(api, "GET", "/deployments/name/koe-nightly/koe-nightly")
        assert deployment["entrypoint"] == "flows/nightly.py:nightly"
        assert deployment["work_pool_name"] == "koe-process"
        assert deployment["enforce_parameter_schema"] is True
        (schedule,) = deployment["schedules"]
        assert schedule["schedule"]["cron"] == "0 2 * * *"
        assert schedule["schedule"]["timezone"] == "Asia/Tokyo"
        # {{ $KOE_PROJECT_DIR }} is resolved when `prefect deploy` runs
        (step,) = deployment["pull_steps"]
        assert step == {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
        runs = {}
        for name, parameters in (("ok", {}), ("bad_config", {"config_path": str(bad_config)})):
            path = f"/deployments/{deployment['id']}/create_flow_run"
            runs[name] = api_call(api, "POST", path, {"parameters": parameters})["id"]
        t_deploy = time.monotonic() - t0
        worker_cmd = [sys.executable, "-m", "prefect", "worker", "start", "--pool", "koe-process",
                      "--run-once"]  # fmt: skip
        with started(worker_cmd, env, worker_log) as worker:
            try:
                worker.wait(240)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the worker did not finish:\n{worker_log.read_text()}")
        states = {
            name: api_call(api, "GET", f"/flow_runs/{run_id}") for name, run_id in runs.items()
        }
    log = worker_log.read_text(errors="replace")
    ok, bad = states["ok"], states["bad_config"]
    assert ok["state"]["type"] == "COMPLETED", log
    assert ok["parameters"]["input_path"].endswith("mini_survey.csv")
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    assert not folder.name.startswith(".")  # committed, not .partial
    for name in EXPECTED_FILES:
        assert (folder / name).is_file(), name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["input_rows"] == 30 and manifest["counts"]["tagged"] == 28
    # A bad config is deterministic: the flow run fails once, with the file and line, no retry.
    assert bad["state"]["type"] == "FAILED", log
    assert bad["run_count"] == 1
    assert "bad.yaml:3: cluster.min_cluster_size" in log
    assert server.poll() is not None and worker.poll() is not None  # both stopped
    print(f"deploy test: server up {t_server:.1f} s, deployed and runs created "
          f"{t_deploy:.1f} s, total {time.monotonic() - t0:.1f} s")  # fmt: skip
