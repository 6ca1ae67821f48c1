"""Shared fixtures. Tests never touch the network: Hugging Face libraries run offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from koe.prefect_env import configure_prefect

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
configure_prefect()

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LOOKUP_LISTS = ROOT / "lookup_lists"


@pytest.fixture(scope="session")
def tagger():
    """The lookup tagger over the shipped lookup lists."""
    from koe.taggers.lookup import LookupTagger

    return LookupTagger.from_folder(LOOKUP_LISTS)


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """One temporary Prefect API for the whole session (its first start runs migrations)."""
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect_home"))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
