"""Names third-party libraries read when they are imported (PyG's typing and utils modules): the
compressed sparse layouts, torch.__config__, torch.jit._overload."""
import pytest
import torch

import chainrule


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_compressed_sparse_layouts_are_named(lib):
    layouts = [lib.sparse_csr, lib.sparse_csc, lib.sparse_bsr, lib.sparse_bsc]
    assert len(set(map(id, layouts))) == 4 and all(isinstance(each, lib.layout) for each in layouts)
    assert lib.arange(3).layout != lib.sparse_csr and repr(lib.sparse_csr).endswith(".sparse_csr")


def test_no_compressed_sparse_tensor_is_made_silently_dense():
    for make in (chainrule.zeros, chainrule.empty, chainrule.ones):
        with pytest.raises(RuntimeError, match="no sparse_csr tensors"):
            make(2, 3, layout=chainrule.sparse_csr)
    with pytest.raises(RuntimeError, match="no sparse_bsc tensors"):
        chainrule.full((2,), 1.0, layout=chainrule.sparse_bsc)


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_config_reports_the_build_as_text(lib):
    shown = lib.__config__.show()
    assert isinstance(shown, str) and ("USE_MKL=ON" in shown) != ("USE_MKL=OFF" in shown)
    assert "get_num_threads() : " in lib.__config__.parallel_info()


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_jit_overload_declarations_return_the_declaration(lib):
    def scale(x: int) -> int: ...

    assert lib.jit._overload(scale) is scale and lib.jit._overload_method(scale) is scale
