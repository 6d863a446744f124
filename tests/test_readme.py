"""The README's Python examples run as written (from a scratch folder, for the files they write)."""
import re
import shutil
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{index}" for index in range(len(BLOCKS))])
def test_readme_example_runs(source, tmp_path, monkeypatch):
    if "draw_graph" in source and shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (scripts/test.sh installs it with apt)")
    monkeypatch.chdir(tmp_path)
    exec(compile(source, str(README), "exec"), {"__name__": "readme"})


def test_readme_has_examples():
    assert len(BLOCKS) >= 2
