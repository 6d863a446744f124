"""chainrule.random: the global stream's seeds and states, generators, and fork_rng."""
import pickle
import subprocess
import sys

import pytest
import torch

import chainrule


def _draws_after(block):
    chainrule.manual_seed(0)
    first = chainrule.rand(3).tolist()
    block()
    return first, chainrule.rand(3).tolist()


def test_fork_rng_puts_the_stream_back_as_it_was():
    def forked():
        with chainrule.random.fork_rng():
            inside.append(chainrule.rand(3).tolist())

    inside = []
    assert _draws_after(forked) == _draws_after(lambda: None)
    assert inside[0] == _draws_after(lambda: None)[1]  # the block drew what would have come next


def test_fork_rng_puts_the_stream_back_after_an_exception_and_can_be_disabled():
    def failing():
        with pytest.raises(ValueError), chainrule.random.fork_rng(devices=[]):
            chainrule.rand(10)
            raise ValueError

    assert _draws_after(failing) == _draws_after(lambda: None)

    def disabled():
        with chainrule.random.fork_rng(enabled=False):
            chainrule.rand(3)

    assert _draws_after(disabled) == _draws_after(lambda: chainrule.rand(3))


def test_a_process_that_never_seeds_has_an_initial_seed_and_can_load_data_in_workers():
    """PyTorch seeds its global generator from entropy at import: initial_seed() is an int, which the
    DataLoader's worker processes derive their seeds from."""
    script = (
        "import chainrule\n"
        "from chainrule.utils.data import DataLoader, TensorDataset\n"
        "assert isinstance(chainrule.initial_seed(), int)\n"
        "data = TensorDataset(chainrule.arange(10.0), chainrule.arange(10))\n"
        "print(sum(len(x) for x, _ in DataLoader(data, batch_size=4, num_workers=2)))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "10"


def test_new_generators_start_from_pytorchs_default_seed():
    assert chainrule.Generator().initial_seed() == torch.Generator().initial_seed() == 67280421310721
    assert chainrule.Generator("cpu").initial_seed() == chainrule.Generator(device="cpu").initial_seed() == 67280421310721
    assert chainrule.Generator().device == chainrule.device("cpu")
    first, second = (chainrule.randn(3, generator=chainrule.Generator()) for _ in range(2))
    assert chainrule.equal(first, second)
    generator = chainrule.Generator()
    drawn = generator.seed()
    assert drawn == generator.initial_seed() != 67280421310721


def test_state_version_changes_with_every_change_of_the_state_and_only_then():
    g = chainrule.Generator().manual_seed(3)
    versions = [g.state_version()]
    assert g.state_version() == versions[-1]  # nothing drawn, nothing changed

    def changed(action):
        before_bytes = g.state_bytes()
        action()
        versions.append(g.state_version())
        assert versions[-1] not in versions[:-1]
        return before_bytes != g.state_bytes()

    assert changed(lambda: chainrule.rand(3, generator=g))
    assert changed(lambda: chainrule.randn(1, generator=g, dtype=chainrule.float64))  # keeps a second normal
    assert changed(lambda: chainrule.randn(1, generator=g, dtype=chainrule.float64))  # takes it, draws nothing
    saved = g.get_state()
    assert changed(lambda: g.manual_seed(3))
    assert changed(lambda: g.set_state(saved))
    chainrule.rand(2)  # another generator's draw
    assert g.state_version() == versions[-1]


def test_a_generator_is_named_as_pytorchs_and_pickles():
    """``repr(torch.manual_seed(0))`` (a notebook cell's last line) names PyTorch's class,
    ``torch._C.Generator``; a pickled generator (a DataLoader's, sent to spawned workers) draws on."""
    names = [repr(lib.manual_seed(0)).split(" object at ")[0].replace("chainrule", "torch") for lib in (torch, chainrule)]
    assert names[0] == names[1] == "<torch._C.Generator"
    generator = chainrule.Generator().manual_seed(3)
    chainrule.rand(2, generator=generator)
    copied = pickle.loads(pickle.dumps(generator))
    assert chainrule.rand(2, generator=copied).tolist() == chainrule.rand(2, generator=generator).tolist()
