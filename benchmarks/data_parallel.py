"""Data-parallel throughput: the MLP 784-512-512-10 trained with DistributedDataParallel on 1 and 2
processes, one BLAS thread each, and what the same step would cost on more machines.

    python -m benchmarks.data_parallel                      # 1 and 2 processes, per-process batch 64 and 256
    python -m benchmarks.data_parallel --processes 1 2 4 --markdown benchmarks/DATA_PARALLEL.md

Each process trains on its own batch (weak scaling: the global batch grows with the processes, as it
does when a job is given more machines), so the ideal throughput of ``P`` processes is ``P`` times
that of one process training without DDP; the speed-up is measured against that plain process, and
the scaling efficiency is the speed-up divided by ``P``. Beside the step time, each
run measures the parts: the step without DDP (compute only) and one all-reduce of all the gradients
(``2.68 MB`` in float32: ``669,706`` numbers), which is the traffic data parallelism adds per step.

The estimate for machines on a network uses the cost of the all-reduce MPICH runs for long
messages (a reduce-scatter then an all-gather, by recursive halving and doubling): every process
sends and receives ``2 (P - 1) / P`` times the gradient bytes, in ``2 log2(P)`` rounds of messages,

    t_all_reduce(P) = 2 (P - 1) / P * bytes / bandwidth + 2 log2(P) * latency
    efficiency(P)   = t_compute / (t_compute + t_all_reduce(P))       (no overlap, the worst case)

with the compute time per step measured here on one process.
"""
import argparse
import json
import math
import os
import sys
import time

BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
SIZES = (784, 512, 512, 10)
NETWORK_BYTES_PER_SECOND = 10e9 / 8  # 10 Gbit/s
NETWORK_LATENCY_SECONDS = 30e-6  # one small TCP message between machines on one switch, about
MACHINE_COUNTS = (8, 64)


def worker(batch, steps, repeats):
    """One process of the job: time DDP steps, compute-only steps and the gradient all-reduce."""
    import chainrule
    import chainrule.distributed as dist
    from benchmarks.mlp import build_model, initial_weights
    from chainrule.nn.parallel import DistributedDataParallel

    dist.init_process_group(backend="mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    model = build_model(chainrule, initial_weights(SIZES), lambda lib: lib.nn.ReLU())
    ddp = DistributedDataParallel(model)
    optimizer = chainrule.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    generator = chainrule.Generator(rank)
    inputs = chainrule.randn(batch, SIZES[0], generator=generator)
    labels = chainrule.randint(0, SIZES[-1], (batch,), generator=generator)

    def steps_of(network):
        def run():
            for _ in range(steps):
                optimizer.zero_grad()
                chainrule.nn.functional.cross_entropy(network(inputs), labels).backward()
                optimizer.step()
            dist.barrier()  # the job's step time is its slowest process's

        return run

    gradients = chainrule.zeros(sum(parameter.numel() for parameter in model.parameters()))
    all_reduce_seconds = fastest_time(lambda: dist.all_reduce(gradients, op=dist.ReduceOp.AVG), repeats * steps)
    ddp_seconds = fastest_time(steps_of(ddp), repeats) / steps
    compute_seconds = fastest_time(steps_of(model), repeats) / steps
    if rank == 0:
        print(json.dumps({
            "processes": size, "batch_per_process": batch, "step_ms": ddp_seconds * 1e3,
            "compute_ms": compute_seconds * 1e3, "all_reduce_ms": all_reduce_seconds * 1e3,
            "gradient_bytes": gradients.numel() * gradients.element_size(),
            "samples_per_second": size * batch / ddp_seconds,
        }))
    dist.destroy_process_group()


def fastest_time(run, repeats):
    """The fastest of ``repeats`` timed calls of ``run`` (after one untimed): on a machine shared
    with other work, the fastest run is the one least disturbed by it."""
    run()
    fastest = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def measure(processes, batch, steps, repeats):
    """Launch ``processes`` workers with mpiexec; rank 0's measurements."""
    from chainrule.distributed.launch import launcher_environment, mpiexec_command, run_job

    command = mpiexec_command(processes, ["-m", "benchmarks.data_parallel", "--worker", "--batch", str(batch),
                                          "--steps", str(steps), "--repeats", str(repeats)])
    environment = launcher_environment(command[0])
    environment.update({variable: "1" for variable in BLAS_THREAD_VARIABLES})
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.path.join(root, "src"), environment.get("PYTHONPATH")]))
    finished = run_job(command, environment, timeout=600, capture_output=True)
    if finished.returncode != 0:
        raise RuntimeError(f"the benchmark's processes failed:\n{finished.stdout}\n{finished.stderr}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def all_reduce_seconds(machines, gradient_bytes):
    return (2 * (machines - 1) / machines * gradient_bytes / NETWORK_BYTES_PER_SECOND
            + 2 * math.log2(machines) * NETWORK_LATENCY_SECONDS)


def table(results):
    single = {row["batch_per_process"]: row for row in results if row["processes"] == 1}
    lines = [
        "| processes | batch per process | step with DDP | step without DDP | all-reduce of the gradients | samples/s with DDP | speed-up | scaling efficiency |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results:
        base = single.get(row["batch_per_process"])  # one process training without DDP
        speedup = row["samples_per_second"] * base["compute_ms"] / 1e3 / base["batch_per_process"] if base else float("nan")
        lines.append(
            f"| {row['processes']} | {row['batch_per_process']} | {row['step_ms']:.2f} ms | {row['compute_ms']:.2f} ms | "
            f"{row['all_reduce_ms']:.3f} ms | {row['samples_per_second']:,.0f} | {speedup:.2f} | {speedup / row['processes']:.0%} |"
        )
    return lines


def estimate(results):
    gradient_bytes = results[0]["gradient_bytes"]
    lines = [
        f"Bytes all-reduced per step: {gradient_bytes:,} (the float32 gradients of {gradient_bytes // 4:,} parameters). "
        f"Estimate on a {NETWORK_BYTES_PER_SECOND * 8 / 1e9:.0f} Gbit/s network (reduce-scatter + all-gather, "
        f"{NETWORK_LATENCY_SECONDS * 1e6:.0f} us per message, no overlap), one process per machine with the compute time measured on 1 process:",
        "",
        "| machines | batch per machine | compute | all-reduce | step | samples/s | scaling efficiency |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results:
        if row["processes"] != 1:
            continue
        for machines in MACHINE_COUNTS:
            communication = all_reduce_seconds(machines, gradient_bytes)
            step = row["compute_ms"] / 1e3 + communication
            lines.append(
                f"| {machines} | {row['batch_per_process']} | {row['compute_ms']:.2f} ms | {communication * 1e3:.2f} ms | "
                f"{step * 1e3:.2f} ms | {machines * row['batch_per_process'] / step:,.0f} | {row['compute_ms'] / 1e3 / step:.0%} |"
            )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.data_parallel", description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch", type=int, nargs="+", default=[64, 256], help="per-process batch sizes")
    parser.add_argument("--steps", type=int, default=10, help="training steps per timed run")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs (the fastest is kept)")
    parser.add_argument("--markdown", default=None, help="also write the tables to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.worker:
        return worker(arguments.batch[0], arguments.steps, arguments.repeats)
    results = [measure(count, batch, arguments.steps, arguments.repeats) for batch in arguments.batch for count in arguments.processes]
    header = (f"Machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; {time.strftime('%Y-%m-%d')}; "
              f"MLP 784-512-512-10, float32, cross-entropy, SGD momentum; one BLAS thread per process; the fastest of "
              f"{arguments.repeats} runs of {arguments.steps} steps.")
    text = "\n".join([header, "", *table(results), "", *estimate(results)])
    print(text)
    if arguments.markdown:
        with open(arguments.markdown, "w", encoding="utf-8") as file:
            file.write("# Data-parallel throughput\n\nProduced by `python -m benchmarks.data_parallel --markdown "
                       f"{arguments.markdown}`.\n\n{text}\n")
    return 0


if __name__ == "__main__":
    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
    sys.exit(main())
