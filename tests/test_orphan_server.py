"""The temporary Prefect API server of `koe run` dies with it (issue 18), however it dies.

A real `koe run` subprocess, without PREFECT_API_URL so that it starts its own server, waits at
the ``KOE_PAUSE_AT`` hook of flows/nightly.py (after ingest: the server is up and serving the
flow run); then only the koe process is sent SIGTERM or SIGKILL. Within 10 s no server child
may be left (koe.prefect_env.start_local_api: a parent-death signal).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from koe.prefect_env import SERVER_ENV, server_command, start_local_api
from koe.store.locks import process_alive

from .conftest import FIXTURES, ROOT
from .runfolders import frozen_config

KOE = "import sys; from koe.cli import app; sys.argv[0] = 'koe'; app()"
linux_only = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="needs Linux /proc and PR_SET_PDEATHSIG"
)


def children(pid: int) -> list[tuple[int, str, str]]:
    """(pid, start time, command line) of the live child processes of ``pid`` (/proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append((int(entry.name), fields[19], cmdline))
    return found


@pytest.fixture(scope="module")
def koe_setup(tmp_path_factory):
    """A config without the embedding model, and one PREFECT_HOME for both runs (the first
    start of a server on a new home runs its migrations)."""
    base = tmp_path_factory.mktemp("orphan")
    config = frozen_config(base, "cluster: {enabled: false}\npolarity_model: none\n")
    return base, config, base / "prefect_home"


def paused_koe_run(base: Path, config: Path, home: Path, name: str) -> subprocess.Popen:
    pause, log = base / f"{name}.pause", base / f"{name}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {"PREFECT_HOME": str(home), "KOE_PAUSE_AT": "ingested", "KOE_PAUSE_FILE": str(pause)}
    with log.open("wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-c", KOE, "run", "--input", str(FIXTURES / "mini_survey.csv"),
             "--out", str(base / name), "--config", str(config)],
            env=env, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 180
    while not pause.exists():
        assert proc.poll() is None, f"koe run exited early:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"koe run never paused:\n{log.read_text()}"
        time.sleep(0.1)
    return proc


@linux_only
@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_the_prefect_server_dies_with_koe_run(koe_setup, sig):
    base, config, home = koe_setup
    proc = paused_koe_run(base, config, home, sig.name)
    servers: list[tuple[int, str, str]] = []
    try:
        # koe's children (the server is a direct child: the launcher execs it)
        servers = [c for c in children(proc.pid) if "uvicorn" in c[2]]
        assert servers, f"no Prefect server child of koe run: {children(proc.pid)}"
        os.kill(proc.pid, sig)  # koe only, not its process group
        proc.wait(timeout=60)
        deadline = time.monotonic() + 10
        while any(process_alive(pid, started) for pid, started, _ in servers):
            assert time.monotonic() < deadline, f"the server outlived koe run ({sig.name})"
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for pid, started, _ in servers:  # an orphan keeps koe's process group
            if process_alive(pid, started):
                os.kill(pid, signal.SIGKILL)


def test_koes_server_command_is_prefects(monkeypatch):
    """start_local_api starts the same server Prefect would (the same command and settings)."""
    import prefect.server.api.server as server_module

    calls = []
    monkeypatch.setattr(server_module.subprocess, "Popen", lambda *a, **k: calls.append(k))
    server = server_module.SubprocessASGIServer(port=1)
    try:
        server._run_uvicorn_command()
    finally:
        server_module.SubprocessASGIServer._instances.pop(1, None)
    (prefects,) = calls
    assert prefects["args"] == server_command(1)
    assert {k: prefects["env"][k] for k in SERVER_ENV} == SERVER_ENV


def test_no_server_is_started_when_an_api_is_configured():
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert start_local_api() is None


@linux_only
def test_the_launcher_sets_the_parent_death_signal(tmp_path):
    """The launcher execs its command with PR_SET_PDEATHSIG = SIGKILL (the status line of
    /proc shows no such field, so ask prctl(PR_GET_PDEATHSIG) in the exec'd program)."""
    from koe.prefect_env import DIE_WITH_PARENT

    probe = ("import ctypes, sys; v = ctypes.c_int(); "
             "ctypes.CDLL(None).prctl(2, ctypes.byref(v)); print(v.value)")  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", DIE_WITH_PARENT, str(os.getpid()), sys.executable, "-c", probe],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert int(done.stdout) == signal.SIGKILL
