# Source: PyTorch recipes "PyTorch Benchmark" and "Timer quick start"
#   https://github.com/pytorch/tutorials  recipes_source/recipes/benchmark.py,
#   recipes_source/recipes/timer_quick_start.py
# Shrunk: x of 100x64 instead of 10000x64; the table of sizes [1, 64] and 1 or 4 threads instead of
# [1, 64, 1024, 10000] and 1/4/16/32; the A/B test on three small shapes; 6 fuzzed inputs of at most
# 10,000 elements (k0, k1 up to 1000) instead of 10 of up to 10,000,000 (k0, k1 up to 10000);
# min_run_time=0.002 s instead of 0.2 or 1 s.
# Left out: the CUDA runs, the C++ and Callgrind parts (Language.CPP, collect_callgrind,
# cpp_extension) and the built-in op_fuzzers (tensors of millions of elements). Times differ from run
# to run, so each Measurement and Compare table is printed without them (`shown`, `table`: the
# lines with times, their units and, for autoranged measurements, the run counts left out; the
# tables' cells masked as '#', their colours and rule lengths dropped); with the numbers the
# recipe's own code computes that do not depend on the clock (results of the two batched dots,
# the fuzzer's sizes and tensors).
import re

def shown(measurement, runs_counted_by_clock=False):
    lines = [line for line in repr(measurement).splitlines()
             if not re.search(r"\d (ns|us|ms|s)\b|WARNING|This (could|suggests)", line)
             and not (runs_counted_by_clock and "measurement" in line)]
    print("\n".join(lines))

def table(compare):
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(compare))
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("Times are in")]
    for i, line in enumerate(lines):
        line = re.sub(r"-+", "-", line)
        if i >= 2 and "|" in line:
            name, bar, cells = line.partition("|")
            line = name + bar + re.sub(r"[\d.]+", "#", cells)
        print(line)

import torch


def batched_dot_mul_sum(a, b):
    '''Computes batched dot by multiplying and summing'''
    return a.mul(b).sum(-1)


def batched_dot_bmm(a, b):
    '''Computes batched dot by reducing to ``bmm``'''
    a = a.reshape(-1, 1, a.shape[-1])
    b = b.reshape(-1, b.shape[-1], 1)
    return torch.bmm(a, b).flatten(-3)


# Input for benchmarking
x = torch.randn(100, 64)

# Ensure that both functions compute the same output
assert batched_dot_mul_sum(x, x).allclose(batched_dot_bmm(x, x))
print(batched_dot_mul_sum(x, x)[:5], batched_dot_bmm(x, x)[:5])

import timeit

t0 = timeit.Timer(
    stmt='batched_dot_mul_sum(x, x)', 
    setup='from __main__ import batched_dot_mul_sum',
    globals={'x': x})

t1 = timeit.Timer(
    stmt='batched_dot_bmm(x, x)',
    setup='from __main__ import batched_dot_bmm',
    globals={'x': x})

print(type(t0.timeit(100)).__name__, type(t1.timeit(100)).__name__)

import torch.utils.benchmark as benchmark

t0 = benchmark.Timer(
    stmt='batched_dot_mul_sum(x, x)', 
    setup='from __main__ import batched_dot_mul_sum',
    globals={'x': x})

t1 = benchmark.Timer(
    stmt='batched_dot_bmm(x, x)',
    setup='from __main__ import batched_dot_bmm',
    globals={'x': x})

shown(t0.timeit(100))
shown(t1.timeit(100))

num_threads = torch.get_num_threads()
print(f'Benchmarking on {num_threads} threads')

t0 = benchmark.Timer(
    stmt='batched_dot_mul_sum(x, x)', 
    setup='from __main__ import batched_dot_mul_sum',
    globals={'x': x},
    num_threads=num_threads,
    label='Multithreaded batch dot',
    sub_label='Implemented using mul and sum')

t1 = benchmark.Timer(
    stmt='batched_dot_bmm(x, x)',
    setup='from __main__ import batched_dot_bmm',
    globals={'x': x},
    num_threads=num_threads,
    label='Multithreaded batch dot',
    sub_label='Implemented using bmm')

shown(t0.timeit(100))
shown(t1.timeit(100))

m0 = t0.blocked_autorange(min_run_time=0.002)
m1 = t1.blocked_autorange(min_run_time=0.002)

shown(m0, runs_counted_by_clock=True)
shown(m1, runs_counted_by_clock=True)

print(type(m0.mean).__name__, type(m0.median).__name__, m0.mean > 0, m0.median > 0)
print(m0.title, "|", m0.stmt, "|", m0.num_threads, "|", m1.label, "|", m1.sub_label)

from itertools import product

# Compare takes a list of measurements which we'll save in results.
results = []

sizes = [1, 64]
for b, n in product(sizes, sizes):
    # label and sub_label are the rows
    # description is the column
    label = 'Batched dot'
    sub_label = f'[{b}, {n}]'
    x = torch.ones((b, n))
    for num_threads in [1, 4]:
        results.append(benchmark.Timer(
            stmt='batched_dot_mul_sum(x, x)',
            setup='from __main__ import batched_dot_mul_sum',
            globals={'x': x},
            num_threads=num_threads,
            label=label,
            sub_label=sub_label,
            description='mul/sum',
        ).blocked_autorange(min_run_time=0.002))
        results.append(benchmark.Timer(
            stmt='batched_dot_bmm(x, x)',
            setup='from __main__ import batched_dot_bmm',
            globals={'x': x},
            num_threads=num_threads,
            label=label,
            sub_label=sub_label,
            description='bmm',
        ).blocked_autorange(min_run_time=0.002))

compare = benchmark.Compare(results)
table(compare)

compare.trim_significant_figures()
compare.colorize()
table(compare)

import pickle

ab_test_results = []
for env in ('environment A: mul/sum', 'environment B: bmm'):
    for b, n in ((1, 1), (64, 100), (100, 1)):
        x = torch.ones((b, n))
        dot_fn = (batched_dot_mul_sum if env == 'environment A: mul/sum' else batched_dot_bmm)
        m = benchmark.Timer(
            stmt='batched_dot(x, x)',
            globals={'x': x, 'batched_dot': dot_fn},
            num_threads=1,
            label='Batched dot',
            description=f'[{b}, {n}]',
            env=env,
        ).blocked_autorange(min_run_time=0.002)
        ab_test_results.append(pickle.dumps(m))

ab_results = [pickle.loads(i) for i in ab_test_results]
compare = benchmark.Compare(ab_results)
compare.trim_significant_figures()
compare.colorize()
table(compare)

# And just to show that we can round trip all of the results from earlier:
round_tripped_results = pickle.loads(pickle.dumps(results))
assert(str(benchmark.Compare(results)) == str(benchmark.Compare(round_tripped_results)))

from torch.utils.benchmark import Fuzzer, FuzzedParameter, FuzzedTensor, ParameterAlias

# Generates random tensors with 128 to 10000 elements and sizes k0 and k1 chosen from a
# ``loguniform`` distribution in [1, 1000], 40% of which will be discontiguous on average.
example_fuzzer = Fuzzer(
    parameters = [
        FuzzedParameter('k0', minval=1, maxval=1000, distribution='loguniform'),
        FuzzedParameter('k1', minval=1, maxval=1000, distribution='loguniform'),
    ],
    tensors = [
        FuzzedTensor('x', size=('k0', 'k1'), min_elements=128, max_elements=10000, probability_contiguous=0.6)
    ],
    seed=0,
)

results = []
for tensors, tensor_params, params in example_fuzzer.take(6):
    # description is the column label
    sub_label=f"{params['k0']:<6} x {params['k1']:<4} {'' if tensor_params['x']['is_contiguous'] else '(discontiguous)'}"
    print(sub_label, tensors['x'].shape, tensors['x'].stride(), tensors['x'].sum(), tensor_params['x']['numel'])
    results.append(benchmark.Timer(
        stmt='batched_dot_mul_sum(x, x)',
        setup='from __main__ import batched_dot_mul_sum',
        globals=tensors,
        label='Batched dot',
        sub_label=sub_label,
        description='mul/sum',
    ).blocked_autorange(min_run_time=0.002))
    results.append(benchmark.Timer(
        stmt='batched_dot_bmm(x, x)',
        setup='from __main__ import batched_dot_bmm',
        globals=tensors,
        label='Batched dot',
        sub_label=sub_label,
        description='bmm',
    ).blocked_autorange(min_run_time=0.002))

compare = benchmark.Compare(results)
compare.trim_significant_figures()
table(compare)

###############################################################################
# Timer quick start

from torch.utils.benchmark import Language, Timer

def measure(b_size):
    return Timer(
        "x * y",
        f"""
        x = torch.ones((128,))
        y = torch.ones(({b_size},))
        """,
    ).blocked_autorange(min_run_time=0.002)

shown(measure(b_size=128), runs_counted_by_clock=True)
print()
shown(measure(b_size=1), runs_counted_by_clock=True)
print(Language.PYTHON, Language.CPP)
