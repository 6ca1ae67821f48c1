"""Retries: I/O tasks retry transient I/O errors; deterministic failures fail at once."""

from __future__ import annotations

import sqlite3
import time

import pytest
import sqlalchemy.exc
from prefect import flow

from koe import pipeline
from koe.config import ConfigError, load_config
from koe.flows import tasks
from koe.ingest import IngestError

from .conftest import FIXTURES


def _operational(message: str) -> sqlalchemy.exc.OperationalError:
    return sqlalchemy.exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))


def _wrapped(cause: BaseException) -> IngestError:
    try:
        raise IngestError("cannot read the export") from cause
    except IngestError as exc:
        return exc


# fmt: off
CASES = [
    (OSError("network share gone"), True),
    (TimeoutError(), True),
    (PermissionError("locked by Excel"), True),
    (_wrapped(OSError("stale NFS handle")), True),
    (_operational("database is locked"), True),
    (_operational("no such table: answers"), False),
    (_wrapped(_operational('near "SELEC": syntax error')), False),
    (IngestError("missing required column(s): 'text'"), False),
    (ConfigError("koe.yaml:3: cluster.min_cluster_size"), False),
    (ValueError("bad"), False),
]
# fmt: on


@pytest.mark.parametrize(("exc", "transient"), CASES)
def test_which_errors_are_transient(exc, transient):
    assert tasks.is_transient(exc) is transient


def _flaky_read_input(monkeypatch, error: BaseException, failures: int) -> list[int]:
    calls: list[int] = []
    real = pipeline.read_input

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) <= failures:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "read_input", flaky)
    return calls


@flow(name="koe-test-ingest")
def ingest_flow(input_path: str) -> pipeline.IngestResult:
    """The ingest task in a flow, with the production retry policy but no delays."""
    return tasks.ingest.with_options(retry_delay_seconds=0)(load_config(input=input_path))


@pytest.mark.slow
def test_the_ingest_task_retries_a_flaky_share(prefect_harness, monkeypatch):
    calls = _flaky_read_input(monkeypatch, OSError("network share gone"), failures=2)
    result = ingest_flow(str(FIXTURES / "mini_survey.csv"))
    assert len(calls) == 3
    assert result.input_rows == 30


@pytest.mark.slow
def test_a_deterministic_ingest_error_is_not_retried(prefect_harness, monkeypatch):
    calls = _flaky_read_input(monkeypatch, IngestError("missing required column(s)"), failures=9)
    with pytest.raises(IngestError):
        ingest_flow(str(FIXTURES / "mini_survey.csv"))
    assert len(calls) == 1


@pytest.mark.slow
def test_a_bad_config_fails_the_flow_at_once(prefect_harness, tmp_path):
    from koe.flows.nightly import nightly

    bad = tmp_path / "koe.yaml"
    bad.write_text("seed: 1\ncluster:\n  min_cluster_size: one\n", encoding="utf-8")
    t0 = time.monotonic()
    with pytest.raises(ConfigError, match=r"koe.yaml:3: cluster.min_cluster_size"):
        nightly(config_path=str(bad), output_root=str(tmp_path / "runs"))
    assert time.monotonic() - t0 < 20  # the shortest retry schedule alone would be 22 s
    assert not (tmp_path / "runs").exists()
