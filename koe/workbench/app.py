"""The workbench web app (``koe review``): FastAPI routes over koe.workbench's functions.

Pages are rendered on the server (Jinja2, autoescaped) and work with plain HTML forms; the
pages carry no script at all. Every state change is a POST with the CSRF token; a decision is
written to the run-state database at once and the review gold file is rewritten; a list edit
goes through koe.workbench.edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from koe.core.frames import POLARITIES
from koe.store import RunStore
from koe.store.reviews import REVIEW_ACTIONS
from koe.taggers.lookup_lists import LookupListError, load_lookup_lists
from koe.taggers.sentences import split_text
from koe.themes import ThemeEditError, lists_version
from koe.workbench.data import (
    MentionFilter,
    RunView,
    highlight,
    search_comments,
    sentence_at,
    theme_mentions,
    theme_overview,
    theme_tags,
)
from koe.workbench.edits import (
    LIST_ACTIONS,
    StaleListsError,
    apply_list_edit,
    preview_list_change,
    undo_list_edit,
)
from koe.workbench.gold import gold_from_decisions, write_gold
from koe.workbench.security import HEADERS, Guard, parse_form, safe_next

HERE = Path(__file__).parent


class CsrfRefused(Exception):
    """A POST without the app's CSRF token, or from another origin."""
NPS_GROUPS = ("promoter", "passive", "detractor")


@dataclass
class Workbench:
    """What the app serves: one run, the lists it edits, the store decisions go to."""

    run: RunView
    lists: Path
    store: RunStore
    gold_path: Path
    author: str = ""
    _loaded: tuple[str, dict[str, Any]] | None = field(default=None, init=False, repr=False)

    @property
    def run_folder(self) -> Path:
        return self.run.folder

    def themes(self) -> dict[str, Any]:
        """The current lists' themes by id, loaded again whenever the files change."""
        version = lists_version(self.lists)
        if self._loaded is None or self._loaded[0] != version:
            self._loaded = (version, load_lookup_lists(self.lists).themes)
        return self._loaded[1]

    def write_gold(self) -> int:
        return write_gold(self.gold_path, gold_from_decisions(theme_tags(self.run),
                                                              self.store.decisions()))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)  # fmt: skip
    env.globals.update(highlight=highlight, polarities=POLARITIES, nps_groups=NPS_GROUPS)
    env.filters["points"] = lambda v: "" if pd.isna(v) else f"{v:+.1f}"
    return env


def _decided(decisions: pd.DataFrame) -> dict[tuple[str, int, str], Any]:
    """The latest active decision on each (comment, sentence, theme)."""
    return {(d.comment_id, int(d.sentence_idx), d.theme): d
            for d in decisions.itertuples(index=False)}  # fmt: skip


def create_app(bench: Workbench, guard: Guard | None = None) -> FastAPI:
    """The workbench app over ``bench``, guarded by ``guard`` (default: no host check, no
    token; CSRF always)."""
    guard = guard or Guard()
    env = _environment()
    app = FastAPI(title="koe review", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def _guarded(request: Request, call_next: Any) -> Response:
        response = guard.refusal(request) or await call_next(request)
        response.headers.update(HEADERS)
        return response

    def page(name: str, request: Request, status: int = 200, **values: Any) -> HTMLResponse:
        themes = bench.themes()
        html = env.get_template(name).render(
            csrf=guard.csrf, version=lists_version(bench.lists), run=bench.run,
            list_themes=themes, here=request.url.path + (f"?{request.url.query}"
                                                         if request.url.query else ""),
            decisions=len(bench.store.decisions()), notice=request.query_params.get("done", ""),
            **values)  # fmt: skip
        return HTMLResponse(html, status_code=status)

    def message(request: Request, text: str, status: int) -> HTMLResponse:
        return page("message.j2", request, status=status, text=text)

    async def form_of(request: Request) -> dict[str, str]:
        """A POST's form, once its CSRF token and origin are the app's."""
        form = parse_form(await request.body())
        if not guard.csrf_ok(request, form):
            raise CsrfRefused
        return form

    @app.exception_handler(CsrfRefused)
    async def _refused(request: Request, exc: CsrfRefused) -> Response:
        return PlainTextResponse("koe review: missing or wrong CSRF token", status_code=403)

    @app.exception_handler(LookupListError)
    async def _broken_lists(request: Request, exc: LookupListError) -> Response:
        # the lists were edited by hand into an invalid state while the app runs
        return PlainTextResponse(f"koe review: the lookup lists do not load: {exc}",
                                 status_code=500)  # fmt: skip

    @app.get("/static/review.css")
    def _css() -> Response:
        return Response((HERE / "static" / "review.css").read_bytes(), media_type="text/css")

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        themes = bench.themes()
        lists = {t.id: (t.name, t.department) for t in themes.values()}
        edits = bench.store.list_edits().head(20)
        return page("index.j2", request, overview=theme_overview(bench.run, lists), edits=edits)

    @app.get("/theme/{theme_id}", response_class=HTMLResponse)
    def theme(request: Request, theme_id: str) -> HTMLResponse:
        q = request.query_params
        where = MentionFilter(**{k: q.get(k, "") for k in MentionFilter.__dataclass_fields__})
        mentions, total = theme_mentions(bench.run, theme_id, where)
        themes = bench.themes()
        emergent = bench.run.emergent[bench.run.emergent["cluster_id"] == theme_id]
        if theme_id not in themes and emergent.empty:
            return message(request, f"no theme {theme_id!r} in this run or the lists", 404)
        return page("theme.j2", request, theme_id=theme_id, theme=themes.get(theme_id),
                    cluster=None if emergent.empty else emergent.iloc[0].to_dict(),
                    mentions=mentions, total=total, where=where,
                    decided=_decided(bench.store.decisions()),
                    sources=sorted(set(bench.run.tags["source"])),
                    segment_values=_segment_values(bench.run))  # fmt: skip

    @app.get("/theme/{theme_id}/preview", response_class=HTMLResponse)
    async def preview(request: Request, theme_id: str) -> HTMLResponse:
        field_name = request.query_params.get("field", "")
        value = request.query_params.get("value", "")
        if field_name not in ("keywords", "exclusions"):
            return message(request, "field must be keywords or exclusions", 400)
        try:
            result = await run_in_threadpool(preview_list_change, bench.run, bench.lists,
                                             theme=theme_id, field=field_name, value=value)
        except (ThemeEditError, LookupListError) as exc:
            return message(request, str(exc), 400)
        return page("preview.j2", request, theme_id=theme_id, field=field_name, value=value,
                    preview=result)  # fmt: skip

    @app.get("/search", response_class=HTMLResponse)
    def search(request: Request) -> HTMLResponse:
        q = request.query_params.get("q", "")
        hits, total = search_comments(bench.run, q) if q else (bench.run.comments.head(0), 0)
        tags = bench.run.tags[bench.run.tags["id"].isin(set(hits["id"]))]
        sentences = {cid: [str(text)[a:b] for a, b in split_text(str(text))]
                     for cid, text in zip(hits["id"], hits["text"], strict=True)}  # fmt: skip
        return page("search.j2", request, q=q, hits=hits, total=total, tags=tags,
                    sentences=sentences)  # fmt: skip

    @app.get("/decisions", response_class=HTMLResponse)
    def decisions(request: Request) -> HTMLResponse:
        return page("decisions.j2", request, rows=bench.store.decisions().iloc[::-1],
                    edits=bench.store.list_edits(), gold=bench.gold_path)  # fmt: skip

    @app.post("/decide")
    async def decide(request: Request) -> Response:
        form = await form_of(request)
        action = form.get("action", "")
        comment_id, theme_id = form.get("comment_id", ""), form.get("theme", "")
        try:
            idx = int(form.get("sentence_idx", "0"))
            sentence = sentence_at(bench.run, comment_id, idx)
        except (KeyError, ValueError) as exc:
            return message(request, str(exc).strip("'\""), 400)
        themes = bench.themes()
        steps: list[tuple[str, str, str | None]] = []
        if action == "change_theme":
            new = form.get("new_theme", "")
            if new not in themes:
                return message(request, f"unknown theme {new!r}", 400)
            steps = [("reject", theme_id, None), ("add", new, None)]
        elif action in REVIEW_ACTIONS:
            if action == "add" and theme_id not in themes:
                return message(request, f"unknown theme {theme_id!r}", 400)
            steps = [(action, theme_id, form.get("polarity") or None)]
        else:
            return message(request, f"unknown action {action!r}", 400)
        try:
            for step, step_theme, polarity in steps:
                bench.store.add_decision(step, comment_id=comment_id, sentence_idx=idx,
                                         sentence=sentence, theme=step_theme,
                                         polarity=polarity, author=bench.author)  # fmt: skip
        except ValueError as exc:
            return message(request, str(exc), 400)
        bench.write_gold()
        return RedirectResponse(safe_next(form.get("next", "/")), status_code=303)

    @app.post("/undo/decision/{decision_id}")
    async def undo_decision(request: Request, decision_id: int) -> Response:
        form = await form_of(request)
        if not bench.store.undo_decision(decision_id):
            return message(request, f"no active decision {decision_id}", 404)
        bench.write_gold()
        return RedirectResponse(safe_next(form.get("next", "/decisions")), status_code=303)

    @app.post("/lists/edit")
    async def edit_lists(request: Request) -> Response:
        form = await form_of(request)
        action = form.get("action", "")
        if action not in LIST_ACTIONS:
            return message(request, f"unknown edit {action!r}; one of {LIST_ACTIONS}", 400)
        try:
            done = await run_in_threadpool(
                apply_list_edit, bench.store, bench.lists, bench.run_folder, action=action,
                theme=form.get("theme", ""), value=form.get("value", ""),
                seen_version=form.get("version", ""), department=form.get("department"),
                name=form.get("name"), author=bench.author)  # fmt: skip
        except StaleListsError as exc:
            return message(request, str(exc), 409)
        except (ThemeEditError, LookupListError) as exc:
            return message(request, str(exc), 400)
        target = safe_next(form.get("next", "/"))
        return RedirectResponse(f"{target}{'&' if '?' in target else '?'}"
                                f"{urlencode({'done': done})}", status_code=303)  # fmt: skip

    @app.post("/clusters/rename")
    async def rename_cluster(request: Request) -> Response:
        form = await form_of(request)
        cluster_id, name = form.get("cluster_id", ""), " ".join(form.get("value", "").split())
        emergent = bench.run.emergent
        if cluster_id not in set(emergent["cluster_id"]) or not name:
            return message(request, f"no emergent theme {cluster_id!r}, or an empty name", 400)
        bench.store.name_cluster(cluster_id, name, author=bench.author)
        emergent.loc[emergent["cluster_id"] == cluster_id, "label"] = name  # this page, too
        done = urlencode({"done": f"{cluster_id} is {name!r} from the next run on"})
        return RedirectResponse(f"/theme/{cluster_id}?{done}", status_code=303)

    @app.post("/undo/edit/{edit_id}")
    async def undo_edit(request: Request, edit_id: int) -> Response:
        form = await form_of(request)
        try:
            await run_in_threadpool(undo_list_edit, bench.store, bench.lists, edit_id)
        except ThemeEditError as exc:
            return message(request, str(exc), 409)
        return RedirectResponse(safe_next(form.get("next", "/decisions")), status_code=303)

    return app


def _segment_values(run: RunView, most: int = 30) -> list[tuple[str, str]]:
    """(column, value) choices of the segment filter: each segment's most frequent values."""
    pairs = []
    for column in run.segments:
        if column in run.comments:
            values = run.comments[column].dropna().astype(str).value_counts().head(most)
            pairs += [(column, v) for v in sorted(values.index)]
    return pairs
