"""Prefect settings that koe needs on every machine, applied before Prefect is imported.

- Telemetry off: nothing leaves the machine. PREFECT_SERVER_ANALYTICS_ENABLED=false for the
  server; DO_NOT_TRACK=1 for Prefect's client-side SDK analytics, which Prefect 3.8 checks at
  import time (the `prefect` CLI and a worker's flow runs need it in their environment too: see
  README "Nightly schedule").
- The ephemeral server's first start on a new PREFECT_HOME runs database migrations for ~30 s
  on 2 cores, beyond Prefect's default 20 s startup timeout: allow 180 s.
- Hugging Face libraries stay offline: koe never downloads models at run time.
Values already set in the environment win.

Also: ``start_local_api`` (the temporary API of ``koe run``, killed with its parent) and
``console_tracebacks_hidden`` (Prefect's console lines without a traceback koe reports itself).
"""

from __future__ import annotations

import functools
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def configure_prefect() -> None:
    """Set koe's defaults for Prefect and Hugging Face (environment values win)."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


# --- the temporary API of `koe run`, bound to its process --------------------------------------

# Linux: run the rest of argv with PR_SET_PDEATHSIG = SIGKILL, so that the kernel kills it when
# the thread that started it dies, however that happens (SIGKILL included). The signal survives
# exec; if the parent died before prctl took effect, exit instead of running without one.
DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(1)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)
# the environment Prefect gives its ephemeral server (SubprocessASGIServer._run_uvicorn_command)
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
              "PREFECT__SERVER_FINAL": "1"}  # fmt: skip


def server_command(port: int) -> list[str]:
    """Prefect's own command for its ephemeral API server (Prefect 3.8–3.9; checked against
    Prefect's in tests/test_orphan_server.py)."""
    import prefect

    return [
        sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
        "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "error", "--lifespan", "on",
    ]  # fmt: skip


@functools.cache
def _bound_server_class() -> type:
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings

    class BoundASGIServer(SubprocessASGIServer):
        """Prefect's ephemeral server, started so that it dies with this process (Linux)."""

        _instances: ClassVar[dict[int | None, Any]] = {}  # not Prefect's registry

        def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
            command = server_command(self.port)
            # the parent-death signal follows the thread that forks: only the main thread
            # lives as long as the process
            if sys.platform == "linux" and threading.current_thread() is threading.main_thread():
                command = [sys.executable, "-c", DIE_WITH_PARENT, str(os.getpid()), *command]
            settings = get_current_settings().to_environment_variables(exclude_unset=True)
            return subprocess.Popen(command, env={**os.environ, **SERVER_ENV, **settings})

    return BoundASGIServer


def start_local_api() -> str | None:
    """Start the temporary Prefect API of ``koe run``, bound to this process; returns its URL.

    Nothing is started (None) when an API is configured (``PREFECT_API_URL``: a server, a
    worker's flow run, prefect_test_harness) or Prefect's ephemeral mode is off. Otherwise
    Prefect would start its server on first use, from whichever thread needs it first, as a
    plain child that outlives a killed ``koe run`` (~220 MB each). koe starts it here, from the
    calling (main) thread, with a parent-death signal (DIE_WITH_PARENT), and registers it as the
    default instance Prefect's client and event workers reuse, as prefect_test_harness does.
    Stopping is Prefect's as before: at exit, or by the kernel when this process is killed.
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE

    if PREFECT_API_URL.value() or not PREFECT_SERVER_ALLOW_EPHEMERAL_MODE.value():
        return None
    server = SubprocessASGIServer._instances.get(None)
    if server is None or not server.running:
        server = _bound_server_class()()
        SubprocessASGIServer._instances[None] = server
        server.start()
    return server.api_url


# --- one line, not tracebacks, for an error koe reports itself --------------------------------


class _DropTraceback(logging.Filter):
    def __init__(self, match: Callable[[BaseException], object]) -> None:
        super().__init__()
        self.match = match

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and self.match(exc):
            record.exc_info = record.exc_text = None  # the console comes after the API handler
        return True


@contextmanager
def console_tracebacks_hidden(match: Callable[[BaseException], object]) -> Iterator[None]:
    """Prefect's console log lines keep their message but lose the traceback of an exception
    for which ``match`` is true (koe prints its own one-line error for it). The logs sent to
    the Prefect API keep the traceback: that handler runs before the root's console handler."""
    from prefect.logging.handlers import PrefectConsoleHandler

    drop = _DropTraceback(match)
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, PrefectConsoleHandler)]
    for handler in handlers:
        handler.addFilter(drop)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(drop)
