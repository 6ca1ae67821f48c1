"""The run lock: one koe run at a time per store, a dead owner's lock reclaimed at once."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from koe.store.schema import StoreState, locks_table, runs_table, utcnow


class LockTimeout(RuntimeError):
    """Another koe run holds the run lock of this store; the message says which and where."""


def process_start_time(pid: int) -> str:
    """The kernel's start time of ``pid`` (Linux ``/proc``), or "" where unavailable.

    Recorded with the pid so that a recycled pid is not mistaken for the lock's owner.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat[stat.rindex(")") + 2 :].split()[19]


def process_alive(pid: int, started: str = "") -> bool:
    """Whether process ``pid`` (started at ``started``, see process_start_time) still runs."""
    if Path("/proc/self/stat").exists():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] in ("Z", "X"):  # killed, not yet reaped
            return False
        return not started or fields[19] == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LockMixin(StoreState):
    """RunStore's run lock (table ``locks``)."""

    def acquire_lock(
        self,
        *,
        timeout_s: float = 0.0,
        poll_s: float = 0.25,
        on_wait: Callable[[str], None] | None = None,
        name: str = "run",
    ) -> None:
        """Take the store's run lock; wait up to ``timeout_s`` seconds for another run.

        A lock left by a process of this host that no longer runs (killed, crashed) is
        reclaimed at once. When the lock is taken, runs still marked ``running`` are marked
        ``crashed``: a live run always holds the lock.

        Raises:
            LockTimeout: another run still held the lock after ``timeout_s`` seconds.
        """
        me = {
            "name": name, "owner": uuid.uuid4().hex, "pid": os.getpid(),
            "pid_started": process_start_time(os.getpid()), "host": socket.gethostname(),
        }  # fmt: skip
        deadline = time.monotonic() + timeout_s
        waiting_told = False
        while True:
            try:
                with self.engine.begin() as conn:
                    conn.execute(locks_table.insert().values(**me, acquired_at=utcnow()))
                break
            except sa.exc.IntegrityError:
                holder = self.lock_holder(name)
                if holder is None:
                    continue
                if holder["host"] == me["host"] and not process_alive(
                    holder["pid"], holder["pid_started"]
                ):
                    self._break_lock(holder)
                    continue
                message = self._held_message(holder)
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"{message}; gave up after waiting {timeout_s:g} s. Run again when it "
                        "has finished"
                        + ("" if holder["host"] == me["host"] else
                           f", or, if {holder['host']} no longer runs koe, `koe unlock`")
                    ) from None  # fmt: skip
                if on_wait is not None and not waiting_told:
                    on_wait(f"{message}; waiting up to {timeout_s:g} s")
                    waiting_told = True
                time.sleep(poll_s)
        self._lock = me
        with self.engine.begin() as conn:
            conn.execute(
                runs_table.update()
                .where(runs_table.c.status == "running")
                .values(status="crashed", ended_at=utcnow())
            )

    def _held_message(self, holder: dict[str, Any]) -> str:
        since = holder["acquired_at"].strftime("%Y-%m-%d %H:%M:%S")
        return (
            f"another koe run holds the run lock of {self.safe_url}: run "
            f"{holder['run_id'] or '(starting)'}, pid {holder['pid']} on {holder['host']}, "
            f"since {since} UTC"
        )

    def lock_holder(self, name: str = "run") -> dict[str, Any] | None:
        """The row of whoever holds the lock ``name``, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(locks_table).where(locks_table.c.name == name)).first()
        return dict(row._mapping) if row is not None else None

    def _break_lock(self, holder: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                locks_table.delete().where(
                    locks_table.c.name == holder["name"], locks_table.c.owner == holder["owner"]
                )
            )

    def break_lock(self, name: str = "run") -> dict[str, Any] | None:
        """Remove the lock whoever holds it (``koe unlock``); returns the removed holder."""
        holder = self.lock_holder(name)
        if holder is not None:
            self._break_lock(holder)
        return holder

    def release_lock(self) -> None:
        """Release the run lock this store holds (a no-op when it holds none)."""
        if self._lock is None:
            return
        with self.engine.begin() as conn:
            conn.execute(locks_table.delete().where(locks_table.c.owner == self._lock["owner"]))
        self._lock = None
