"""Comparing run folders: byte for byte, except the fields that record when and how fast.

``manifest.json`` loses ``run_id``, ``started_at``, ``finished_at``, ``timings_s``, the cache
counters (``comments_seen``, ``incremental``, ``discovery.embedding``) and the split of cluster
ids into issued tonight / kept from an earlier night (``discovery.ids_new``/``ids_kept``, compared
as one list): they describe the execution and the store's history, not the result. ``report.html`` has its run id and generation minute replaced. An
``.xlsx`` file is compared member by member without ``docProps/core.xml`` (its timestamps).
Every other file must be identical.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path

EXECUTION_FIELDS = ("run_id", "started_at", "finished_at", "timings_s", "comments_seen",
                    "incremental")  # fmt: skip


def normalized_manifest(path: Path) -> dict:
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for key in EXECUTION_FIELDS:
        manifest.pop(key, None)
    discovery = manifest.get("discovery", {})
    discovery.pop("embedding", None)
    # which cluster ids were issued tonight vs kept from an earlier night depends on history;
    # the ids themselves must not
    if "ids_new" in discovery or "ids_kept" in discovery:
        ids = discovery.pop("ids_new", []) + discovery.pop("ids_kept", [])
        discovery["ids"] = sorted(ids)
    return manifest


def normalized_files(folder: Path) -> dict[str, object]:
    """Every file of a run folder, with execution facts taken out."""
    run_id = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["run_id"]
    files: dict[str, object] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name == "manifest.json":
            files[name] = normalized_manifest(path)
        elif path.suffix == ".html":
            html = path.read_text(encoding="utf-8").replace(run_id, "RUN")
            files[name] = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "TIME", html)
        elif path.suffix == ".xlsx":
            with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as z:
                files[name] = {m: z.read(m) for m in z.namelist() if m != "docProps/core.xml"}
        else:
            files[name] = path.read_bytes()
    return files


def assert_same_run(actual: Path, expected: Path) -> None:
    got, want = normalized_files(actual), normalized_files(expected)
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], f"{name} differs between {actual} and {expected}"


def run_folders(out: Path) -> list[Path]:
    """Completed run folders of ``out`` (not ``.partial``), oldest first."""
    return sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))


FAST_DRIVERS = "n_boot: 50, regression_n_boot: 20, segment_n_boot: 20"


def frozen_config(folder: Path, extra: str = "", drivers: str = "") -> Path:
    """A koe.yaml in ``folder`` over a copy of the shipped lookup lists, so that runs compared
    with each other tag with the same lists even while someone edits lookup_lists/, and with
    small bootstraps (these tests check the pipeline's plumbing, not the statistics)."""
    lists = folder / "lookup_lists"
    if not lists.exists():
        shutil.copytree(Path(__file__).resolve().parents[1] / "lookup_lists", lists)
    config = folder / "koe.yaml"
    settings = ", ".join(s for s in (FAST_DRIVERS, drivers) if s)
    config.write_text(f"lookup_lists: {lists}\ndrivers: {{{settings}}}\n{extra}", encoding="utf-8")
    return config
