"""The store's runs: one row per run, unique run ids, and a run's lifecycle (``open_run``)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from koe.store.locks import LockMixin
from koe.store.pending import PendingWrites
from koe.store.schema import locks_table, metadata, runs_table, utcnow


def new_run_id(now: datetime | None = None) -> str:
    """A run id: the run's start time in UTC, e.g. ``20261205T212140Z``."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class RunRecord:
    """A run opened by ``RunStore.open_run``; the body sets ``status`` and ``manifest``.

    ``status`` is how the run ends when its body exits normally: ``completed`` (the default,
    which writes the deferred store writes) or, e.g., ``skipped`` for a night with nothing new.
    """

    run_id: str
    started: datetime  # UTC, with its zone
    status: str = "completed"
    manifest: dict[str, Any] | None = None


class RunMixin(LockMixin):
    """RunStore's runs (table ``runs``) and the run lifecycle over the lock."""

    def start_run(self, run_id: str, input_path: str) -> None:
        """Record ``run_id`` as running (and as the run of the lock this store holds)."""
        with self.engine.begin() as conn:
            conn.execute(
                runs_table.insert().values(
                    run_id=run_id, started_at=utcnow(), status="running", input_path=input_path
                )
            )
        if self._lock is not None:
            with self.engine.begin() as conn:
                conn.execute(
                    locks_table.update()
                    .where(locks_table.c.owner == self._lock["owner"])
                    .values(run_id=run_id)
                )

    def finish_run(self, run_id: str, status: str, manifest: dict[str, Any] | None = None) -> None:
        """Mark a run finished. ``completed`` also writes a deferred store's pending writes, in
        the same transaction; any other status discards them."""
        with self.engine.begin() as conn:
            if status == "completed":
                self._pending.write(conn)
            conn.execute(
                runs_table.update()
                .where(runs_table.c.run_id == run_id)
                .values(
                    ended_at=utcnow(),
                    status=status,
                    manifest=json.dumps(manifest, ensure_ascii=False, default=str)
                    if manifest is not None
                    else None,
                )
            )
        self._pending = PendingWrites()

    @contextmanager
    def open_run(
        self,
        out: Path,
        input_description: str,
        *,
        lock_timeout_s: float = 0.0,
        on_wait: Callable[[str], None] | None = None,
    ) -> Iterator[RunRecord]:
        """One run under the store's lock, from its start to its recorded end.

        Takes the run lock (waiting up to ``lock_timeout_s``, see acquire_lock), picks a run id
        free in the store and in the run-folder root ``out`` (see unique_run_id) and records
        the run as running. When the body exits normally the run finishes with the record's
        ``status`` and ``manifest``. When it raises, or recording the end fails, the run is
        abandoned (see abandon_run: partial folder removed, marked ``failed``, deferred writes
        discarded) and the body's exception goes on. Either way the store is closed, its lock
        released.
        """
        try:
            self.acquire_lock(timeout_s=lock_timeout_s, on_wait=on_wait)
            started = datetime.now(UTC)
            run = RunRecord(self.unique_run_id(new_run_id(started), out), started)
            self.start_run(run.run_id, input_description)
        except BaseException as exc:
            self._close_quietly(exc)
            raise
        try:
            yield run
            self.finish_run(run.run_id, run.status, run.manifest)
        except BaseException as exc:
            self.abandon_run(run.run_id, out, exc)
            raise
        self.close()

    def abandon_run(self, run_id: str, out: Path, exc: BaseException) -> None:
        """End a run whose body raised ``exc``, each step even when an earlier one fails.

        1. Remove its ``<out>/.<run_id>.partial`` folder: on a full disk it is what fills it,
           and the store may live on the same disk. (A completed folder was already renamed.)
        2. Mark the run ``failed`` (its deferred writes are discarded).
        3. Release the lock and close the store.

        A store error in steps 2–3 (the disk is still full, the database is gone) does not
        replace ``exc``: it is added to ``exc`` as a note. A lock that could not be released
        belongs to a dead process once this one exits, and the next run reclaims it.
        """
        shutil.rmtree(out / f".{run_id}.partial", ignore_errors=True)
        try:
            self.finish_run(run_id, "failed")
        except Exception as err:
            exc.add_note(f"koe: could not mark run {run_id} failed: {err}")
        finally:
            self._pending = PendingWrites()
        self._close_quietly(exc)

    def close(self) -> None:
        """Release the run lock if this store holds it, and close the connections."""
        try:
            if self._lock is not None:
                self.release_lock()
        finally:
            self.engine.dispose()

    def _close_quietly(self, exc: BaseException) -> None:
        """close(), with a failure noted on ``exc`` (the error being raised) instead of raised."""
        try:
            self.close()
        except Exception as err:
            exc.add_note(f"koe: could not release the run lock: {err}")

    def runs(self) -> list[dict[str, Any]]:
        """Every run's row, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(runs_table).order_by(runs_table.c.started_at))
            return [dict(r._mapping) for r in rows]

    def unique_run_id(self, base: str, out: Path | None = None) -> str:
        """``base``, or ``base-2``, ``base-3``… when a run or a run folder already has it."""
        with self.engine.connect() as conn:
            taken = {r for (r,) in conn.execute(sa.select(runs_table.c.run_id))}
        candidate, n = base, 1
        while candidate in taken or (
            out is not None
            and ((out / candidate).exists() or (out / f".{candidate}.partial").exists())
        ):
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def pending_counts(self) -> dict[str, int]:
        """Writes a deferred store holds for the end of the run, per kind. ``embeddings`` is the
        number of texts this run encoded: the cache had none of them."""
        return self._pending.counts()

    def table_counts(self) -> dict[str, int]:
        """Rows per table (for tests and diagnostics)."""
        with self.engine.connect() as conn:
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables
            }
