import os

import pytest
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")

# The op tables draw their shapes and values with hypothesis. By default they draw the same examples
# on every run (CI passes or fails for the code, never for the draw); HYPOTHESIS_PROFILE=explore
# draws new ones each run, to search for failures.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(autouse=True)
def _fresh_seed():
    """Each test starts from the same global seed, so tests do not depend on their order."""
    import chainrule

    chainrule.manual_seed(0)
    yield
