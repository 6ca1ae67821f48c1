"""The one way to build a lookup tagger, and its cache key.

Every caller that tags — ``koe run`` (one process or partitions), ``koe tag`` (streamed, in
worker processes), ``koe lists``, ``koe themes`` and discovery — builds its tagger here:

- :func:`build_tagger`: a new tagger of a lookup-list folder, with the sentence polarity
  fallback model or without it;
- :func:`shared_tagger`: the same, built once per process and folder content (Dask workers,
  ``koe tag --workers`` processes);
- :func:`tagger_key`: the version of a tagger's output, the key of the tag cache.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from koe import __version__
from koe.config import DEFAULT_LOOKUP_LISTS
from koe.core.hashing import folder_digest, update_with_files
from koe.core.resources import resource_path
from koe.models.polarity_model import polarity_fallback
from koe.taggers.lookup import LookupTagger
from koe.taggers.lookup_lists import POLARITY_FILE

if TYPE_CHECKING:
    from koe.store import RunStore

TAGGERS_DIR = Path(__file__).resolve().parent
POLARITY_MODEL_DIR = resource_path("koe.models", "default_polarity")


def build_tagger(
    lookup_lists: str | Path | None = None,
    polarity_model: str | Path | None = None,
    store: RunStore | None = None,
) -> LookupTagger:
    """The lookup tagger of a folder (default: the shipped lists).

    Args:
        lookup_lists: the lookup-list folder (theme YAML files and polarity.yaml).
        polarity_model: the sentence classifier for mentions no sentiment word reaches
            ("koe-default", a model folder), or None / "none" for the lexicon alone.
        store: the run-state store whose embedding cache the polarity model uses.

    Raises:
        LookupListError: a list is invalid (the message names the file and line).
        PolarityModelError: the polarity model does not load.
    """
    folder = Path(lookup_lists) if lookup_lists is not None else DEFAULT_LOOKUP_LISTS
    return LookupTagger.from_folder(folder, polarity_fallback(polarity_model, store))


def shared_tagger(lookup_lists: str | Path, polarity_model: str | None = None) -> LookupTagger:
    """:func:`build_tagger`, built once per process and folder content (no store)."""
    return _shared(str(lookup_lists), polarity_model, folder_digest(lookup_lists))


@lru_cache(maxsize=4)
def _shared(lookup_lists: str, polarity_model: str | None, digest: str) -> LookupTagger:
    return build_tagger(lookup_lists, polarity_model)


def tagger_key(tagger: LookupTagger, folder: str | Path | None = None) -> str:
    """The cache key of a tagger version.

    Covers every file of the lookup-list folder (theme lists and polarity.yaml), koe's
    built-in polarity.yaml (which a folder's own extends), the tagging code (koe/taggers/*.py),
    the polarity fallback model's files when the tagger has one, koe's version and the Sudachi
    dictionary's: a change to any of them re-tags every comment once.
    """
    digest = hashlib.sha256(tagger.lists.sha256.encode())
    paths: list[Path] = []
    if folder is not None:
        paths += sorted(p for p in Path(folder).iterdir() if p.is_file())
    paths.append(Path(resource_path("koe.lookup_lists")) / POLARITY_FILE)
    paths += sorted(TAGGERS_DIR.glob("*.py"))
    if getattr(tagger, "polarity_fallback", None) is not None:
        paths += sorted(p for p in POLARITY_MODEL_DIR.rglob("*") if p.is_file())
        paths += [POLARITY_MODEL_DIR.parent / "polarity_model.py"]
    update_with_files(digest, paths)
    for name in ("sudachipy", "sudachidict_core"):
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "none"
        digest.update(f"{name}={version}\n".encode())
    digest.update(f"koe={__version__}".encode())
    return digest.hexdigest()
