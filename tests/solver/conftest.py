"""Fixtures for solver tests."""

from pathlib import Path

import pytest

from tests.solver.helpers import CURTOIS


@pytest.fixture
def curtois_dir() -> Path:
    """Directory of the Curtois benchmark instances."""
    if not (CURTOIS / "Instance1.txt").exists():
        pytest.skip("Curtois benchmark files are not available")
    return CURTOIS
