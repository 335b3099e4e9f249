"""One indexed tiny corpus for the whole session: the MCP, RAG and research tests all search it."""

from __future__ import annotations

import os

import pytest

from tests.apps.corpus import build_run


@pytest.fixture(scope="session")
def indexed_run(spark, tmp_path_factory):
    """(data_root, catalog_url) holding run "apps": its curated `mix` documents and their `index`."""
    data_root = tmp_path_factory.mktemp("apps-data")
    url = f"sqlite:///{data_root / 'catalog.sqlite'}"
    previous = os.environ.get("PIPELINE_CATALOG_URL")
    os.environ["PIPELINE_CATALOG_URL"] = url  # the index stage records itself in this catalog
    try:
        build_run(spark, data_root, "apps")
    finally:
        if previous is None:
            del os.environ["PIPELINE_CATALOG_URL"]
        else:
            os.environ["PIPELINE_CATALOG_URL"] = previous
    return data_root, url
