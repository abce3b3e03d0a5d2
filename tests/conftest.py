"""What every test shares: no test reads or writes the user's own session history."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory, monkeypatch):
    """$XDG_DATA_HOME, where `coach play` records sessions, in a temporary directory (children inherit it)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))
