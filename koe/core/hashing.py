"""Content hashes: the cache keys of texts and of folders of files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def text_hash(text: str) -> str:
    """SHA-256 of the UTF-8 text: the cache key of a comment or sentence."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def update_with_files(digest: hashlib._Hash, paths: Iterable[Path]) -> hashlib._Hash:
    """Feed each existing file's name and bytes into ``digest`` (in the order given)."""
    for path in paths:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest


def folder_digest(folder: str | Path) -> str:
    """SHA-256 over the names and bytes of the files directly in ``folder``, by name."""
    paths = sorted(p for p in Path(folder).iterdir() if p.is_file())
    return update_with_files(hashlib.sha256(), paths).hexdigest()
