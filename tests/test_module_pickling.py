"""chainrule's modules pickle as their import (``module_pickling.py``): dill, which Hugging Face
``datasets`` hashes functions and tensors with, saved chainrule installed from source by value."""
import pickle
import subprocess
import sys

import pytest

import chainrule


def test_every_module_imported_with_chainrule_pickles_as_its_import():
    check = (
        "import pickle, sys, chainrule\n"
        "from chainrule.module_pickling import ON_EVERY_OPERATION\n"
        "modules = [m for name, m in list(sys.modules.items()) if (name == 'chainrule' or name.startswith('chainrule.'))\n"
        "           and m.__name__ not in ON_EVERY_OPERATION]  # (also under their PyTorch names: autograd.anomaly_mode)\n"
        "assert len(modules) > 100 and all(pickle.loads(pickle.dumps(m)) is m for m in modules)\n"
        "assert max(len(pickle.dumps(m)) for m in modules) < 200  # the name, not the namespace\n"
    )
    subprocess.run([sys.executable, "-c", check], check=True, timeout=120)
    for module in (chainrule, chainrule.nn, chainrule.nn.functional, chainrule.optim, chainrule.utils.data, chainrule.autograd):
        assert pickle.loads(pickle.dumps(module)) is module


def test_the_modules_every_operation_reads_stay_plain_modules():
    """Their attribute reads are twice as fast so (CPython specializes plain modules only)."""
    from chainrule.autograd import anomaly, grad_mode
    from chainrule.module_pickling import ON_EVERY_OPERATION

    assert {grad_mode.__name__, anomaly.__name__} == ON_EVERY_OPERATION
    assert type(grad_mode) is type(anomaly) is type(pickle)  # types.ModuleType itself


def test_a_subpackage_loaded_on_first_use_pickles_as_its_import():
    assert pickle.loads(pickle.dumps(chainrule.signal)) is chainrule.signal


def test_dill_saves_a_function_using_chainrule_by_reference():
    dill = pytest.importorskip("dill")

    def scaled(x):
        return chainrule.ones(2) * x

    assert len(dill.dumps(scaled)) < 1000 and dill.loads(dill.dumps(scaled))(2.0).tolist() == [2.0, 2.0]
    assert len(dill.dumps(chainrule.tensor([1.0, 2.0]))) < 2000
