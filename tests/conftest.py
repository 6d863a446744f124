import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _fresh_seed():
    """Each test starts from the same global seed, so tests do not depend on their order."""
    import chainrule

    chainrule.manual_seed(0)
    yield
