"""The run-state store on a real PostgreSQL server (issue 18), through psycopg 3.

``postgresql://`` and ``postgres://`` URLs mean ``postgresql+psycopg://`` (koe.core.dburl); a
missing driver is one clear error naming ``pip install "koe[postgres]"``. The server is
``$KOE_TEST_POSTGRES_URL`` (an empty database koe may fill), else a throwaway one this module
starts with Debian's ``initdb`` / ``pg_ctl`` (as the ``postgres`` user when run as root);
without either the server tests skip, saying how to install one. Against it: two incremental
``koe run``s, two processes contending for the lock, and a run recovering a killed run's lock.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from koe.cli import app
from koe.config import load_config
from koe.core.dburl import MissingDriverError, check_driver, create_db_engine, normalize_db_url
from koe.store import LockTimeout, RunStore

from .conftest import FIXTURES, ROOT
from .runfolders import assert_same_run, frozen_config, run_folders

SKIP = "PostgreSQL not available: apt-get install -y postgresql && pip install 'koe[postgres]'"
MINI = str(FIXTURES / "mini_survey.csv")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://koe:pw@db:5432/state", "postgresql+psycopg://koe:pw@db:5432/state"),
        ("postgres://koe@db/state", "postgresql+psycopg://koe@db/state"),
        ("PostgreSQL://koe@db/state", "postgresql+psycopg://koe@db/state"),
        ("postgresql+psycopg2://koe@db/state", "postgresql+psycopg2://koe@db/state"),
        ("sqlite:////tmp/state.sqlite", "sqlite:////tmp/state.sqlite"),
    ],
)
def test_postgres_urls_mean_psycopg_3(url, expected, tmp_path):
    assert normalize_db_url(url) == expected
    assert load_config(state_db=url, out=tmp_path).state_url() == expected


def test_a_missing_driver_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    for call in (check_driver, create_db_engine, RunStore):
        with pytest.raises(MissingDriverError, match=r'pip install "koe\[postgres\]"') as err:
            call("postgresql://koe:secret@db/state")
        assert "secret" not in str(err.value)  # the password stays out of the message


# --- a real server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run ``command`` as the ``postgres`` user."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip(f"{SKIP} (running as root without runuser)")
    return [runuser, "-u", "postgres", "--", *command]


@contextlib.contextmanager
def throwaway_server():
    """A PostgreSQL server in a temporary folder on a free port, trust auth, user ``koe``."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = bins[-1] if bins else shutil.which("initdb")
    if initdb is None:
        pytest.skip(f"{SKIP} (no initdb)")
    pg_ctl = str(Path(initdb).with_name("pg_ctl"))
    folder = Path(tempfile.mkdtemp(prefix="koe-pg-"))
    data, port = folder / "data", _free_port()
    if os.geteuid() == 0:
        try:
            shutil.chown(folder, "postgres")
        except (LookupError, PermissionError) as exc:
            shutil.rmtree(folder)
            pytest.skip(f"{SKIP} ({exc})")
    try:
        steps = (
            [initdb, "-D", str(data), "-U", "koe", "--auth=trust", "-E", "UTF8", "--locale=C"],
            [pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "60", "-o",
             f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
        )  # fmt: skip
        for step in steps:
            done = subprocess.run(_as_postgres_user(step), capture_output=True, text=True)
            if done.returncode != 0:
                pytest.skip(f"{SKIP} ({Path(step[0]).name}: {done.stderr.strip()[-300:]})")
        yield f"postgresql://koe@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_postgres_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
                           capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def server_url():
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip(f"{SKIP} (psycopg is not installed)")
    if os.environ.get("KOE_TEST_POSTGRES_URL"):
        yield os.environ["KOE_TEST_POSTGRES_URL"]
        return
    with throwaway_server() as url:
        yield url


@pytest.fixture
def state_url(server_url):
    """A new, empty database on the server for each test; dropped afterwards."""
    import sqlalchemy as sa

    name = f"koe_test_{uuid.uuid4().hex[:12]}"
    admin = create_db_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"{SKIP} ({str(exc).splitlines()[0]})")
    url = sa.engine.make_url(normalize_db_url(server_url)).set(database=name)
    plain = url.render_as_string(hide_password=False).split("://", 1)[1]
    yield f"postgresql://{plain}"  # as a user writes it: koe picks the driver
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def koe_run(out: Path, config: Path) -> str:
    result = CliRunner().invoke(app, ["run", "--input", MINI, "--out", str(out),
                                      "--config", str(config)])  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_two_incremental_runs_on_postgres(prefect_harness, state_url, tmp_path):
    # embeddings on: the store's BYTEA vectors and the discovery themes go through PostgreSQL
    config = frozen_config(tmp_path, f"state_db: {state_url}\npolarity_model: none\n")
    out = tmp_path / "runs"
    koe_run(out, config)
    store = RunStore(state_url)
    counts_1 = store.table_counts()
    assert counts_1["comments"] == counts_1["comment_rows"] == 28
    assert counts_1["embeddings"] > 0 and counts_1["tag_cache"] > 0
    assert not (out / "koe_state.sqlite").exists()  # the state is in PostgreSQL
    koe_run(out, config)
    first, second = run_folders(out)
    assert_same_run(second, first)
    assert store.table_counts() == counts_1 | {"runs": 2}
    incremental = manifest_of(second)["incremental"]
    assert incremental["tokenized"] == 0 and incremental["embedded"] == 0
    assert incremental["tag_cache_hits"] > 0 and incremental["embedding_cache_hits"] > 0
    assert [r["status"] for r in store.runs()] == ["completed", "completed"]
    assert store.lock_holder() is None
    assert store.safe_url.startswith("postgresql+psycopg://")
    store.close()


HOLD = """
import sys, time
from koe.store import RunStore
store = RunStore(sys.argv[1])
store.acquire_lock()
store.start_run("held", "in.csv")
print("locked", flush=True)
time.sleep(600)
"""


def hold_lock(url: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, url], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_two_processes_contend_for_the_lock_on_postgres(state_url):
    holder = hold_lock(state_url)
    try:
        store = RunStore(state_url)
        t0 = time.monotonic()
        with pytest.raises(LockTimeout, match=rf"pid {holder.pid} on .*gave up after waiting 1 s"):
            store.acquire_lock(timeout_s=1, poll_s=0.1)
        assert 1 <= time.monotonic() - t0 < 10
        assert store.lock_holder()["run_id"] == "held"
        store.close()
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_a_killed_runs_lock_is_reclaimed_on_postgres(prefect_harness, state_url, tmp_path):
    holder = hold_lock(state_url)
    holder.send_signal(signal.SIGKILL)  # a crash: the lock row and a `running` run stay
    holder.wait()
    store = RunStore(state_url)
    assert store.lock_holder()["pid"] == holder.pid
    config = frozen_config(tmp_path, f"state_db: {state_url}\ncluster: {{enabled: false}}\n"
                                     "polarity_model: none\n")  # fmt: skip
    t0 = time.monotonic()
    assert "finished" in koe_run(tmp_path / "runs", config)  # reclaimed at once, no 600 s wait
    assert time.monotonic() - t0 < 120
    runs = store.runs()
    assert [r["status"] for r in runs] == ["crashed", "completed"] and runs[0]["run_id"] == "held"
    assert store.lock_holder() is None
    store.close()
