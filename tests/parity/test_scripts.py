"""Third-party PyTorch teaching scripts print the same with ``import torch`` meaning chainrule.

Each script in ``scripts/`` (source named at its top, shrunk to run in about a second on synthetic
data) runs through ``run_script.py`` with every ``torch`` module name aliased to chainrule, and its
output is compared with what it prints with PyTorch: PyTorch's output as recorded in
``pytorch_printed/`` (``script_outputs.py``: recorded by PyTorch itself, and counted only while
the script, its helpers and the versions are those it was recorded with), else PyTorch's run.
chainrule runs the scripts in one subprocess per test process (importing it once, not once per
script), a batch at a time (``BATCH``). Both draw their random numbers natively from the same
seed (chainrule's generator is PyTorch's: the same Mersenne Twister and sampling arithmetic), so
their printed output must agree:

- token by token, ignoring whitespace (a line may break at another column, since ``chainrule.`` and
  ``torch.`` differ in length), after writing ``chainrule`` as ``torch`` and dropping object
  addresses (``<AddBackward0 object at 0x7f...>``);
- numbers within ``|ours - theirs| <= ATOL + RTOL * |theirs|``, the float32 sums running in another
  order, plus half a unit of each number's last printed decimal: the values printed may be that
  much further apart than the values computed (0.2275 and 0.2274 print as 0.228 and 0.227 with
  three decimals). Numbers printed without decimals (counts, indices) get no such allowance;
- or agree so with what PyTorch printed on another instruction set (a recording for AVX512 on an AVX2 machine):
  where a script's training amplifies rounding (a loss on the edge of a bump, Adam's steps on
  gradients that are rounding residue), PyTorch's own kernels for AVX2 and AVX512 print other
  numbers, and chainrule may print either.

A script that stops today at a name chainrule lacks is marked ``xfail(strict=True)`` with the names
it needs: it turns into an XPASS failure the day the names land, and the mark must go.
"""
import functools
import re

import pytest

from tests.parity.script_outputs import ADDRESS, SCRIPTS, printed, recorded, recorded_elsewhere

pytestmark = pytest.mark.claimed("teaching_scripts_checks")  # (each script's test: its batch's key)

RTOL = 1e-3
ATOL = 1e-4

#: Script -> what chainrule lacks for it today (the lead's to-do; remove an entry when it passes).
NEEDS = {
    "pytorch_recipes_swap_tensors.py": "torch.ops.aten, Tensor._make_wrapper_subclass and __torch_dispatch__ (a tensor subclass "
    "that sees each ATen operation), and load_state_dict(assign=True) swapping the Parameters under the swap flag",
}

_NUMBER = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
_TOKEN = re.compile(rf"{_NUMBER}|nan|inf|\w+|[^\w\s]")


#: The scripts run in batches of this many, handed to the library's script server (one per test
#: process: ``script_outputs.printed``) at a batch's first test. Each batch is one ``xdist_group``
#: under pytest-xdist, and one ``claimed`` key under ``scripts/run_tests.py``: its two processes
#: take the batches as each becomes free, and so end together (a few seconds apart), the scripts
#: last in both.
BATCH = 8


def batch_of(script):
    return SCRIPTS.index(script) // BATCH


@functools.lru_cache(maxsize=None)
def outputs(library, batch):
    """What each script of ``batch`` prints with ``library``: ``{path: {"stdout": ..., "error": ...}}``;
    for PyTorch, its recorded output where that counts, run only for the other scripts."""
    scripts = SCRIPTS[batch * BATCH : (batch + 1) * BATCH]
    if library == "chainrule":
        return printed(library, scripts)
    known = {str(script): {"stdout": recorded(script), "error": None} for script in scripts}
    unknown = [script for script in scripts if known[str(script)]["stdout"] is None]
    return {**known, **(printed(library, unknown) if unknown else {})}


def tokens(output):
    normalized = ADDRESS.sub("", output.replace("chainrule", "torch"))
    return _TOKEN.findall(normalized)


# Where the advice chainrule adds to PyTorch's error messages begins: "(what to do)", ": the shapes",
# "; convert...", or a sentence after PyTorch's last.
_ADVICE = re.compile(r" \(|: |; |(?<=\.) ")


def without_advice(ours, theirs):
    """``ours`` with the advice cut off where a line is one of PyTorch's error messages followed by
    chainrule's advice (a script that prints an exception: ``print(e)``). chainrule's messages are
    PyTorch's words, then what to do; only lines of PyTorch's output of 30 characters or more count
    as messages, so that a number or a word printed after a short line is still a difference."""
    messages = {line.strip() for line in theirs.replace("chainrule", "torch").splitlines() if len(line.strip()) >= 30}
    lines = []
    for line in ours.replace("chainrule", "torch").splitlines():
        line = line.strip()
        cut = next((match.start() for match in _ADVICE.finditer(line) if line[: match.start()] in messages), None)
        lines.append(line if cut is None or line in messages else line[:cut])
    return "\n".join(lines)


def rounding(number):
    """How far a number printed with decimals may be from the value it was printed from: half a
    unit of its last decimal (0.227: 0.0005); 0 for one printed without (an integer, 1e-05)."""
    if "." not in number or re.search("[eE]", number):
        return 0.0
    return 0.5 * 10.0 ** -len(number.partition(".")[2])


def first_difference(ours, theirs):
    """The first place where the outputs differ beyond the tolerance, described; None if they agree."""
    ours_tokens, their_tokens = tokens(without_advice(ours, theirs)), tokens(theirs)
    for position, (mine, theirs_token) in enumerate(zip(ours_tokens, their_tokens)):
        if mine == theirs_token:
            continue
        if re.fullmatch(_NUMBER, mine) and re.fullmatch(_NUMBER, theirs_token):
            if abs(float(mine) - float(theirs_token)) <= ATOL + RTOL * abs(float(theirs_token)) + rounding(mine) + rounding(theirs_token):
                continue
        context = " ".join(their_tokens[max(0, position - 12) : position + 3])
        return f"token {position}: chainrule printed {mine!r} where PyTorch printed {theirs_token!r} (PyTorch: ...{context})"
    if len(ours_tokens) != len(their_tokens):
        return f"chainrule printed {len(ours_tokens)} tokens, PyTorch {len(their_tokens)}"
    return None


def _parameters():
    for script in SCRIPTS:
        group = f"teaching_scripts_{batch_of(script)}"
        marks = [pytest.mark.xdist_group(group), pytest.mark.claimed(group)]
        if script.name in NEEDS:
            marks.append(pytest.mark.xfail(strict=True, reason=f"needs {NEEDS[script.name]}"))
        yield pytest.param(script, id=script.stem, marks=marks)


@pytest.mark.parametrize("script", list(_parameters()))
def test_script_prints_what_pytorch_prints(script):
    theirs, ours = outputs("torch", batch_of(script))[str(script)], outputs("chainrule", batch_of(script))[str(script)]
    assert theirs["error"] is None, f"the script fails with PyTorch itself:\n{theirs['error'][-3000:]}"
    assert ours["error"] is None, f"fails with chainrule:\n{ours['error'][-3000:]}"
    difference = first_difference(ours["stdout"], theirs["stdout"])
    if difference is not None and any(first_difference(ours["stdout"], elsewhere) is None for elsewhere in recorded_elsewhere(script)):
        difference = None  # what PyTorch itself prints on another instruction set
    assert difference is None, f"{difference}\n--- chainrule:\n{ours['stdout'][:3000]}\n--- PyTorch:\n{theirs['stdout'][:3000]}"


def test_every_script_has_what_pytorch_prints_recorded():
    """A new or changed script (or a changed helper) is compared with PyTorch's run until it is
    recorded anew: correct, but PyTorch then runs on every run of the suite."""
    stale = [script.name for script in SCRIPTS if recorded(script, versions_too=False) is None]
    assert not stale, f"record what PyTorch prints for {stale} with `python tests/parity/script_outputs.py`"


def test_every_script_names_its_source():
    for script in SCRIPTS:
        head = script.read_text().splitlines()[:6]
        assert any("Source:" in line for line in head), f"{script.name}: name the source (URL, repository and path) at the top"


def test_the_comparison_tolerates_rounding_and_line_breaks_but_not_other_numbers():
    assert first_difference("tensor([1.0000, 2.0001],\n dtype=chainrule.float64)", "tensor([1.0000, 2.0000], dtype=torch.float64)") is None
    assert first_difference("<AddBackward0 object at 0x7f00>", "<AddBackward0 object at 0x7fff>") is None
    assert "2.6" in first_difference("loss 2.6", "loss 2.4")
    assert first_difference("loss 0.228", "loss 0.227") is None  # 0.2275 and 0.2274, rounded
    assert first_difference("loss 0.229", "loss 0.227") is not None
    assert first_difference("5 correct", "6 correct") is not None
    assert first_difference("a b", "a b c") is not None


def test_the_comparison_reads_chainrule_errors_as_pytorch_message_then_advice():
    pytorch = "mat1 and mat2 shapes cannot be multiplied (4x8 and 10x5)"
    assert first_difference(f"{pytorch} (Linear: expected input with last dimension 10)\nok", f"{pytorch}\nok") is None
    assert first_difference(f"Error: {pytorch}; reshape the input", f"Error: {pytorch}") is None
    freed = "Specify retain_graph=True if you need to backward through the graph a second time."
    assert first_difference(f"{freed} (The graph was freed at PowBackward0.)", freed) is None
    assert first_difference("loss 2.5 (nan)", "loss 2.5") is not None  # a short line is no message
    assert first_difference(f"{pytorch} 7", f"{pytorch}") is not None  # a number, not advice
    assert first_difference(f"{pytorch} (advice)", f"{pytorch} (4x8)") is not None
