"""Run every workload for chainrule, PyTorch and hand-written NumPy and print a table of medians
and ratios (chainrule / PyTorch, chainrule / NumPy by hand).

    python -m benchmarks            # the full table (a few minutes on 2 cores)
    python -m benchmarks --quick    # fewer repeats
    python -m benchmarks --markdown benchmarks/RESULTS.md
"""
import argparse
import gc
import os

# Both libraries get the same 2 BLAS threads; set before NumPy or PyTorch load their BLAS.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "2")

import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import chainrule  # noqa: E402
from benchmarks import chain, conv, data_loading, mlp, recurrent  # noqa: E402
from benchmarks.timing import median_time  # noqa: E402

torch.set_num_threads(2)

# Both libraries share this process, and PyTorch brings ~170,000 Python objects that the cyclic
# garbage collector would rescan in every full collection (about 70 ms each here), billed to
# whichever library happens to be running: chainrule's graph is made of Python objects, PyTorch's
# lives in C++. A chainrule user has no PyTorch loaded (chainrule alone: ~25,000 objects), so the
# objects present after the imports are frozen out of collection, for both libraries alike.
gc.collect()
gc.freeze()


def relu(lib):
    return lib.nn.ReLU()


def moons(samples=100, seed=0):
    """micrograd's demo data: two interleaved half circles with labels -1 and 1."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, np.pi, samples // 2)
    outer = np.stack([np.cos(t), np.sin(t)], 1)
    inner = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
    X = np.concatenate([outer, inner]) + rng.normal(0, 0.1, (samples, 2))
    y = np.concatenate([-np.ones(samples // 2), np.ones(samples // 2)])
    return X.astype(np.float32), y.astype(np.float32)


def classification(samples, features, classes, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((samples, features)).astype(np.float32), rng.integers(0, classes, samples)


MLP_WORKLOADS = [
    # name, layer sizes, data, loss, optimizer, lr, steps per timing
    ("micrograd MLP 2-16-16-1, 100 moons, max-margin, SGD", [2, 16, 16, 1], moons(), "max_margin", "sgd", 0.05, 50),
    ("MLP 4-10-3 (Iris), batch 16, cross-entropy, SGD", [4, 10, 3], classification(16, 4, 3), "cross_entropy", "sgd", 0.1, 200),
    ("MLP 784-512-512-10, batch 128, SGD momentum", [784, 512, 512, 10], classification(128, 784, 10), "cross_entropy", "momentum", 0.01, 5),
    ("MLP 784-512-512-10, batch 128, Adam", [784, 512, 512, 10], classification(128, 784, 10), "cross_entropy", "adam", 1e-3, 5),
    ("MLP 784-1024-10, batch 1024, SGD momentum", [784, 1024, 10], classification(1024, 784, 10), "cross_entropy", "momentum", 0.01, 2),
]


def run_mlp(name, sizes, data, loss_name, optimizer_name, lr, inner, repeats):
    X, y = data
    weights = mlp.initial_weights(sizes)
    results = {}
    first_losses = {}
    for label, lib in (("chainrule", chainrule), ("pytorch", torch)):
        step, losses = mlp.library_step(lib, weights, X, y, loss_name, optimizer_name, relu, lr)
        results[label] = median_time(step, repeats=repeats, inner=inner)
        first_losses[label] = losses[:3]
    step, losses = mlp.library_step(chainrule, weights, X, y, loss_name, optimizer_name, relu, lr, compiled=True)
    results["first call"] = first_call_seconds(step)
    results["compiled"] = median_time(step, repeats=repeats, inner=inner)
    same_as_eager = losses[:3] == first_losses["chainrule"]
    step, losses = mlp.numpy_step(weights, X, y, loss_name, optimizer_name, "relu", lr)
    results["numpy"] = median_time(step, repeats=repeats, inner=inner)
    first_losses["numpy"] = losses[:3]
    agree = np.allclose(first_losses["chainrule"], first_losses["pytorch"], rtol=1e-4, atol=1e-6) and np.allclose(
        first_losses["numpy"], first_losses["pytorch"], rtol=1e-4, atol=1e-6
    )
    return name, results, "ms/step", agree and same_as_eager


def run_eval(repeats):
    """Forward only, under no_grad: what evaluation and prediction cost."""
    sizes = [784, 512, 512, 10]
    X, _ = classification(128, 784, 10)
    weights = mlp.initial_weights(sizes)
    results = {}
    outputs = {}
    for label, lib in (("chainrule", chainrule), ("pytorch", torch)):
        model = mlp.build_model(lib, weights, relu)
        inputs = lib.tensor(X)

        def forward(model=model, inputs=inputs, lib=lib, label=label):
            with lib.no_grad():
                outputs[label] = np.asarray(model(inputs))

        results[label] = median_time(forward, repeats=repeats, inner=10)
    params = [array for layer in weights for array in layer]

    def numpy_forward():
        hidden = np.maximum(X @ params[0].T + params[1], 0)
        hidden = np.maximum(hidden @ params[2].T + params[3], 0)
        return hidden @ params[4].T + params[5]

    results["numpy"] = median_time(numpy_forward, repeats=repeats, inner=10)
    agree = np.allclose(outputs["chainrule"], outputs["pytorch"], rtol=1e-4, atol=1e-5)
    return "eval under no_grad, MLP 784-512-512-10, batch 128", results, "ms/step", agree


def run_lenet(repeats):
    X, y = conv.lenet_data()
    weights = conv.lenet_weights()
    results, first_losses = {}, {}
    for label, lib in (("chainrule", chainrule), ("pytorch", torch)):
        step, losses = conv.library_lenet_step(lib, weights, X, y)
        results[label] = median_time(step, repeats=repeats, inner=5)
        first_losses[label] = losses[:3]
    step, losses = conv.library_lenet_step(chainrule, weights, X, y, compiled=True)
    results["first call"] = first_call_seconds(step)
    results["compiled"] = median_time(step, repeats=repeats, inner=5)
    same_as_eager = losses[:3] == first_losses["chainrule"]
    step, losses = conv.numpy_lenet_step(weights, X, y)
    results["numpy"] = median_time(step, repeats=repeats, inner=5)
    first_losses["numpy"] = losses[:3]
    agree = all(np.allclose(first_losses[k], first_losses["pytorch"], rtol=1e-4, atol=1e-6) for k in ("chainrule", "numpy"))
    agree = agree and same_as_eager
    return "LeNet-5 step, batch 64, 1x28x28, cross-entropy, SGD momentum", results, "ms/step", agree


def run_conv_layer(repeats):
    x, weight, bias = conv.layer_data()
    results, first_losses = {}, {}
    for label, lib in (("chainrule", chainrule), ("pytorch", torch)):
        run, losses = conv.library_layer(lib, x, weight, bias)
        results[label] = median_time(run, repeats=repeats)
        first_losses[label] = losses[0]
    run, losses = conv.numpy_layer(x, weight, bias)
    results["numpy"] = median_time(run, repeats=repeats)
    first_losses["numpy"] = losses[0]
    agree = all(np.isclose(first_losses[k], first_losses["pytorch"], rtol=1e-4) for k in ("chainrule", "numpy"))
    return "Conv2d(64, 64, 3, padding=1) forward + backward, 32x64x32x32", results, "ms", agree


def run_lstm(repeats):
    X, y = recurrent.data()
    arrays = recurrent.weights()
    results, first_losses = {}, {}
    for label, lib in (("chainrule", chainrule), ("pytorch", torch)):
        step, losses = recurrent.library_step(lib, arrays, X, y)
        results[label] = median_time(step, repeats=repeats, inner=3)
        first_losses[label] = losses[:3]
    step, losses = recurrent.numpy_step(arrays, X, y)
    results["numpy"] = median_time(step, repeats=repeats, inner=3)
    first_losses["numpy"] = losses[:3]
    agree = all(np.allclose(first_losses[k], first_losses["pytorch"], rtol=1e-4, atol=1e-6) for k in ("chainrule", "numpy"))
    return "LSTM(32, 128) over 50 steps, batch 32, last step classified, SGD", results, "ms/step", agree


def run_chain(length, repeats):
    results = {}
    grads = {}
    for label, lib in (("chainrule", chainrule), ("pytorch", torch)):
        run = chain.library_chain(lib, length)
        grads[label] = run()
        results[label] = median_time(run, repeats=repeats)
    run = chain.library_chain(chainrule, length, compiled=True)
    results["first call"] = first_call_seconds(run)
    grads["compiled"] = run()
    results["compiled"] = median_time(run, repeats=repeats)
    agree = grads["compiled"] == grads["chainrule"]
    results["numpy"] = median_time(chain.numpy_chain(length), repeats=repeats)
    agree = agree and abs(grads["chainrule"] - grads["pytorch"]) < 1e-4
    return f"chain of {length:,} elementwise ops on 1 element, build + backward", results, "ms", agree


def first_call_seconds(run):
    """The time of a compiled function's first call: it runs eagerly and records the program."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def run_data_loading(repeats):
    X, y = data_loading.make_data()
    results = {}
    for label, lib in (("chainrule", chainrule), ("pytorch", torch)):
        results[label] = median_time(data_loading.library_epoch(lib, X, y), repeats=repeats)
    results["numpy"] = median_time(data_loading.numpy_epoch(X, y), repeats=repeats)
    return "DataLoader epoch, 60,000 x 784, batch 128, shuffled", results, "ms", True


def import_seconds(module):
    """Fastest of 5 fresh interpreters importing ``module`` (the interpreter's own start subtracted)."""
    def fastest(code):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times.append(time.perf_counter() - start)
        return min(times)

    return fastest(f"import {module}") - fastest("pass")


def run_import():
    results = {"chainrule": import_seconds("chainrule"), "pytorch": import_seconds("torch"), "numpy": import_seconds("numpy")}
    return "import time", results, "ms", True


def run_memory(steps, compiled=False, batch=128):
    """Resident memory growth of chainrule over a long training run (graph freed every step; a
    compiled step reuses its program's buffers)."""
    sizes = [784, 512, 512, 10]
    X, y = classification(batch, 784, 10)
    step, _ = mlp.library_step(chainrule, mlp.initial_weights(sizes), X, y, "cross_entropy", "momentum", relu, 0.01, compiled=compiled)
    for _ in range(100):
        step()
    before = _rss_mb()
    for _ in range(steps):
        step()
    after = _rss_mb()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return before, after, peak


def _rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def format_table(rows):
    lines = [
        "| workload | chainrule | PyTorch | NumPy by hand | chainrule / PyTorch | chainrule / NumPy | results agree |",
        "| --- | ---: | ---: | ---: | ---: | ---: | :---: |",
    ]
    compiled_lines = [
        "| workload | compiled chainrule | first call (records) | compiled / PyTorch | compiled / NumPy | compiled / eager chainrule |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, results, unit, agree in rows:
        ours, theirs, floor = (results[k] * 1000 for k in ("chainrule", "pytorch", "numpy"))
        lines.append(
            f"| {name} | {ours:.3f} {unit} | {theirs:.3f} {unit} | {floor:.3f} {unit} | "
            f"{ours / theirs:.2f} | {ours / floor:.2f} | {'yes' if agree else 'NO'} |"
        )
        if "compiled" in results:
            compiled, first = results["compiled"] * 1000, results["first call"] * 1000
            compiled_lines.append(
                f"| {name} | {compiled:.3f} {unit} | {first:.1f} ms | {compiled / theirs:.2f} | {compiled / floor:.2f} | {compiled / ours:.2f} |"
            )
    return "\n".join(lines) + "\n\nchainrule.compile (the same steps recorded once and replayed):\n\n" + "\n".join(compiled_lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", default=None, help="run the workloads whose name contains this text")
    parser.add_argument("--markdown", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 7

    jobs = [(workload[0], lambda w=workload: run_mlp(*w, repeats=repeats)) for workload in MLP_WORKLOADS]
    jobs += [
        ("eval", lambda: run_eval(repeats)),
        ("LeNet", lambda: run_lenet(repeats)),
        ("Conv2d", lambda: run_conv_layer(repeats)),
        ("LSTM", lambda: run_lstm(repeats)),
        ("chain 10,000", lambda: run_chain(10_000, repeats)),
        ("chain 100,000", lambda: run_chain(100_000, 3)),
        ("DataLoader", lambda: run_data_loading(repeats)),
        ("import", run_import),
    ]
    rows = []
    for key, job in jobs:
        if args.only is not None and args.only not in key:
            continue
        row = job()
        rows.append(row)
        print(f"{row[0]}: " + ", ".join(f"{k} {v * 1000:.3f}" for k, v in row[1].items()), flush=True)

    steps = 200 if args.quick else 2000
    before, after, peak = run_memory(steps)
    compiled_steps = 1000 if args.quick else 10_000
    compiled_before, compiled_after, _ = run_memory(compiled_steps, compiled=True, batch=32)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}, PyTorch {torch.__version__}"
    report = (
        f"Machine: {machine}; float32, 2 BLAS threads, medians of {repeats} runs.\n\n"
        + format_table(rows)
        + f"\n\nMemory over {steps} training steps (MLP 784-512-512-10, batch 128): resident "
        f"{before:.0f} MiB -> {after:.0f} MiB (peak {peak:.0f} MiB, whole process incl. PyTorch); over "
        f"{compiled_steps:,} compiled steps (the same MLP, batch 32): {compiled_before:.0f} MiB -> {compiled_after:.0f} MiB.\n"
    )
    print()
    print(report)
    if args.markdown:
        with open(args.markdown, "w") as file:
            file.write("# Benchmark results\n\nProduced by `python -m benchmarks`.\n\n" + report)


if __name__ == "__main__":
    main()
