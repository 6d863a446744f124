"""The safetensors library's torch API run on chainrule's tensors (``import torch`` meaning
chainrule): ``safetensors.torch.load_file`` and ``safe_open`` read a file through
``UntypedStorage.from_file``, which chainrule lacked (every Hugging Face-style weight loading
stopped there)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule

SCRIPT = """
import torch
from safetensors.torch import load_file, safe_open, save_file
save_file({"w": torch.arange(6.).reshape(2, 3), "i": torch.tensor([1, 2]), "h": torch.ones(2, dtype=torch.float16)}, PATH)
loaded = load_file(PATH)
print(sorted((key, str(value.dtype).split(".")[1], value.tolist()) for key, value in loaded.items()))
with safe_open(PATH, framework="pt") as file:
    print(file.get_slice("w")[1:, :2].tolist(), file.get_tensor("i").tolist())
"""


@pytest.mark.parametrize("library", ["torch", "chainrule"])
def test_safetensors_load_file_and_safe_open_as_with_pytorch(tmp_path, library):
    pytest.importorskip("safetensors")
    script = tmp_path / "load.py"
    script.write_text(SCRIPT.replace("PATH", repr(str(tmp_path / "weights.safetensors"))))
    runner = os.path.join(os.path.dirname(__file__), "..", "parity", "run_script.py")
    out = subprocess.run([sys.executable, runner, library, str(script)], capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.splitlines() == [
        "[('h', 'float16', [1.0, 1.0]), ('i', 'int64', [1, 2]), ('w', 'float32', [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])]",
        "[[3.0, 4.0]] [1, 2]",
    ]


def test_untyped_storage_from_file_shared_and_copied(tmp_path):
    path = str(tmp_path / "bytes.bin")
    shared = chainrule.UntypedStorage.from_file(path, True, 8)  # made, 8 zero bytes
    shared[0] = 7
    assert os.path.getsize(path) == 8
    copied = chainrule.UntypedStorage.from_file(path, False, 8)
    assert copied.tolist() == [7, 0, 0, 0, 0, 0, 0, 0]
    copied[1] = 9  # a copy: the file keeps its bytes
    assert np.fromfile(path, np.uint8).tolist() == [7, 0, 0, 0, 0, 0, 0, 0]
    with pytest.raises(RuntimeError, match="unexpected EOF"):
        chainrule.UntypedStorage.from_file(path, False, 100)
