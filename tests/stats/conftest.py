import pytest

from dataforge.collect import collect
from tests.conftest import SAMPLES


@pytest.fixture(scope="session")
def shipped_samples():
    return collect([str(SAMPLES / "datasets")], lint=False).samples
