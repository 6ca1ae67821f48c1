"""``koe review``: the analyst's workbench, a local web app over a run folder.

- data.py: the run's comments, tags and themes as DataFrames (browse, filter, search);
- edits.py: lookup-list edits with a preview, last-write detection and undo;
- gold.py: the review gold file ``koe eval`` reads;
- security.py: host check, token, CSRF and the pages' headers;
- app.py: the FastAPI routes and Jinja2 pages over them.

Decisions on tags go to the run-state database (RunStore.add_decision), which the next run's
semantic layer learns from (koe.taggers.semantic.Corrections).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from koe.workbench.app import Workbench, create_app
from koe.workbench.security import Guard, check_bind, is_loopback

__all__ = ["Workbench", "create_app", "gold_path", "make_server", "serve"]


def make_server(bench: Workbench, host: str, port: int, token: str | None) -> Any:
    """A uvicorn.Server for the workbench. A loopback bind answers only to the loopback host
    names; any other bind needs ``token`` (koe.workbench.security.check_bind)."""
    import uvicorn

    check_bind(host, token)
    loopback = frozenset({"127.0.0.1", "localhost", "[::1]", host})
    allowed = loopback if is_loopback(host) else frozenset()
    app = create_app(bench, Guard(allowed_hosts=allowed, token=token or None))
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))


def serve(bench: Workbench, host: str, port: int, token: str | None) -> None:
    """Serve the workbench until interrupted (see make_server)."""
    make_server(bench, host, port, token).run()


def gold_path(out: Path) -> Path:
    from koe.workbench.gold import GOLD_FILE

    return out / GOLD_FILE
