"""Run a teaching script with ``import torch`` meaning PyTorch or chainrule, drawing the same random numbers.

    python tests/parity/run_script.py chainrule tests/parity/scripts/NAME.py
    python tests/parity/run_script.py torch tests/parity/scripts/NAME.py
    python tests/parity/run_script.py torch --json tests/parity/scripts/*.py   (all, outputs as JSON)

``chainrule``: every ``torch`` and ``torch.X`` module name is an alias of ``chainrule`` and
``chainrule.X``, so ``import torch``, ``import torch.nn as nn`` and ``from torch.utils.data import
DataLoader`` load chainrule; the script runs unchanged.

``torch``: PyTorch, with its random sampling (``manual_seed``, ``rand``, ``randn``, ``randint``,
``randperm``, ``normal``, ``multinomial``, ``Tensor.uniform_``/``normal_`` and so the ``nn.init``
functions, dropout masks, DataLoader shuffling) drawn from NumPy's PCG64 in the order chainrule draws
them. (``multinomial``, which chainrule lacks today, draws each row as
``numpy.random.Generator.choice(n, num_samples, replace=replacement, p=row / row.sum())``: the draw
chainrule's is expected to make.)
The two libraries' generators are different algorithms; with this, a script's random starting
weights and data are the same in both runs, and their printed numbers can be compared.

Both runs seed Python's ``random``, NumPy's legacy global generator and the library's generator
with 0 before the script starts, as chainrule's global generator is otherwise seeded from entropy.
"""
import importlib
import pkgutil
import random
import runpy
import sys

import numpy as np


def alias_torch_to_chainrule():
    import chainrule

    modules = {"chainrule": chainrule}
    for info in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
        if info.name.endswith("__main__"):  # the command line, not a module course code imports
            continue
        try:
            modules[info.name] = importlib.import_module(info.name)
        except ImportError:  # an optional extra (graphviz, matplotlib...) that is not installed
            continue
    for name, module in modules.items():
        sys.modules["torch" + name[len("chainrule") :]] = module


class NumpyRandomness:
    """PyTorch's random functions, drawing from NumPy as chainrule's do (see chainrule/creation.py,
    chainrule/tensor.py normal_/uniform_, chainrule/nn/functional.py dropout, the samplers)."""

    def __init__(self, torch):
        self.torch = torch
        self.global_stream = np.random.default_rng(0)
        self.generator_streams = {}

    def stream(self, generator=None):
        if generator is None:
            return self.global_stream
        # Keyed by id, holding the generator so that its id is not reused by a later one.
        if id(generator) not in self.generator_streams:
            self.generator_streams[id(generator)] = (generator, np.random.default_rng(generator.initial_seed()))
        return self.generator_streams[id(generator)][1]

    def tensor(self, values, dtype, requires_grad=False):
        torch = self.torch
        result = torch.from_numpy(np.asarray(values).astype(str(dtype).removeprefix("torch.")))
        return result.requires_grad_(requires_grad)

    def install(self):
        torch, randomness = self.torch, self

        def shape(size):
            return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)) else tuple(size)

        original_manual_seed = torch.manual_seed

        def manual_seed(seed):
            randomness.global_stream = np.random.default_rng(int(seed))
            return original_manual_seed(seed)

        def rand(*size, generator=None, dtype=None, requires_grad=False, device=None, out=None, **keyword):
            size = size or (keyword.pop("size"),)  # torch.rand(size=(2, 3)) too
            values = randomness.stream(generator).random(shape(size))
            return randomness.tensor(values, dtype or torch.get_default_dtype(), requires_grad)

        def randn(*size, generator=None, dtype=None, requires_grad=False, device=None, out=None, **keyword):
            size = size or (keyword.pop("size"),)
            values = randomness.stream(generator).standard_normal(shape(size))
            return randomness.tensor(values, dtype or torch.get_default_dtype(), requires_grad)

        def randint(low, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False):
            if size is None:
                low, high, size = 0, low, high
            values = randomness.stream(generator).integers(low, high, tuple(size))
            return randomness.tensor(values, dtype or torch.int64)

        def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
            return randomness.tensor(randomness.stream(generator).permutation(n), dtype or torch.int64)

        original_normal = torch.normal

        def normal(mean, std=1.0, size=None, generator=None, dtype=None, requires_grad=False, **options):
            if isinstance(mean, torch.Tensor) or isinstance(std, torch.Tensor) or size is None:
                return original_normal(mean, std, size=size, generator=generator, **options)
            values = randomness.stream(generator).normal(mean, std, tuple(size))
            return randomness.tensor(values, dtype or torch.get_default_dtype(), requires_grad)

        def multinomial(input, num_samples, replacement=False, generator=None, out=None):
            stream = randomness.stream(generator)
            probabilities = input.detach().double().numpy()
            rows = probabilities.reshape(-1, probabilities.shape[-1])
            draws = [stream.choice(row.size, num_samples, replace=replacement, p=row / row.sum()) for row in rows]
            return torch.from_numpy(np.array(draws).reshape(probabilities.shape[:-1] + (num_samples,)))

        def like(function):
            return lambda input, dtype=None, requires_grad=False, **options: function(
                *input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad
            )

        def uniform_(self, a=0.0, b=1.0, generator=None):
            values = randomness.stream(generator).uniform(a, b, tuple(self.shape))
            with torch.no_grad():
                return self.copy_(torch.from_numpy(values))

        def normal_(self, mean=0.0, std=1.0, generator=None):
            values = randomness.stream(generator).normal(mean, std, tuple(self.shape))
            with torch.no_grad():
                return self.copy_(torch.from_numpy(values))

        def dropout(input, p=0.5, training=True, inplace=False):
            if not training or p == 0.0:
                return input
            keep = randomness.global_stream.random(tuple(input.shape)) >= p
            scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
            mask = torch.from_numpy((keep * scale).astype(str(input.dtype).removeprefix("torch.")))
            return input.mul_(mask) if inplace else input * mask

        def random_sampler_iter(sampler):
            size = len(sampler.data_source)
            stream = randomness.stream(sampler.generator)
            if sampler.replacement:
                return iter(stream.integers(0, size, sampler.num_samples).tolist())
            permutations = [stream.permutation(size) for _ in range(-(-sampler.num_samples // size))]
            return iter(np.concatenate(permutations)[: sampler.num_samples].tolist())

        def random_(self, low=0, high=None, *, generator=None):
            if high is None:  # chainrule's bounds: [0, low), or [0, iinfo.max) / [0, 2^mantissa] / {0, 1}
                dtype = np.dtype(str(self.dtype).removeprefix("torch."))
                bound = 2 ** (np.finfo(dtype).nmant + 1) + 1 if dtype.kind == "f" else 2 if dtype.kind == "b" else int(np.iinfo(dtype).max)
                low, high = (0, low) if low else (0, bound)
            values = np.asarray(randomness.stream(generator).integers(low, high, tuple(self.shape)))
            with torch.no_grad():
                return self.copy_(torch.from_numpy(values))

        torch.Tensor.random_ = random_
        torch.manual_seed = torch.random.manual_seed = manual_seed
        torch.rand, torch.randn, torch.randint, torch.randperm, torch.normal = rand, randn, randint, randperm, normal
        torch.rand_like, torch.randn_like = like(rand), like(randn)
        torch.multinomial = torch.Tensor.multinomial = multinomial
        torch.Tensor.uniform_, torch.Tensor.normal_ = uniform_, normal_
        torch.nn.functional.dropout = dropout
        torch.utils.data.RandomSampler.__iter__ = random_sampler_iter


def prepare(library):
    """Make ``import torch`` load ``library``; return a function that resets the random state."""
    if library == "chainrule":
        alias_torch_to_chainrule()
        import chainrule as library_module
    else:
        import torch as library_module

        torch = library_module
        torch.set_num_threads(1)
        randomness = NumpyRandomness(torch)
        randomness.install()

    def reset():
        random.seed(0)
        np.random.seed(0)
        if library == "torch":
            randomness.generator_streams.clear()
        library_module.manual_seed(0)

    return reset


def run(script, reset):
    reset()
    sys.argv = [script]
    runpy.run_path(script, run_name="__main__")


def run_each_capturing(scripts, reset):
    """Run each script in this process (one import of the library for all), as JSON
    ``{script: {"stdout": ..., "error": traceback or None}}``."""
    import contextlib
    import io
    import json
    import os
    import traceback

    results = {}
    for script in scripts:
        output = io.StringIO()
        error = None
        directory = os.getcwd()
        try:
            os.chdir(os.path.dirname(os.path.abspath(script)))
            with contextlib.redirect_stdout(output):
                run(script, reset)
        except BaseException:  # a script that fails, or calls exit(): its traceback is the result
            error = traceback.format_exc()
        finally:
            os.chdir(directory)
        results[script] = {"stdout": output.getvalue(), "error": error}
    print(json.dumps(results))


def main(library, *scripts):
    """``run_script.py LIBRARY SCRIPT`` runs one script, printing as it runs;
    ``run_script.py LIBRARY --json SCRIPT...`` runs several, printing their outputs as JSON."""
    reset = prepare(library)
    if scripts[0] == "--json":
        run_each_capturing(scripts[1:], reset)
    else:
        run(scripts[0], reset)


if __name__ == "__main__":
    main(*sys.argv[1:])
