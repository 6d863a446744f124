"""Worker processes for ``DataLoader(num_workers=N)``: batches loaded in parallel, yielded in order.

The loader's process draws the order (the sampler runs there, exactly as with ``num_workers=0``)
and hands batch ``k`` to worker ``k mod N``, keeping ``prefetch_factor`` tasks ahead per worker.
Each worker fetches and collates its batches (``Fetcher``) and sends them back pickled; the loader
yields them in task order whatever order they arrive in. So the batches are those of
``num_workers=0``, batch for batch.

Each worker seeds chainrule's global generator and Python's ``random`` with its own seed, derived
from the loader generator's initial seed, the epoch and the worker id without drawing from the
generator, so the training loop's own random numbers are those of ``num_workers=0`` too. In a
worker, ``get_worker_info()`` says which worker it is.
"""
import multiprocessing
import queue
import random
import traceback

from chainrule import random as chainrule_random
from chainrule.backend import xp
from chainrule.utils.data.fetch import Fetcher

_POLL_SECONDS = 1.0
_worker_info = None


class WorkerInfo:
    """``id``, ``num_workers``, ``seed`` and ``dataset`` (this worker's copy) of a worker process."""

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


def get_worker_info():
    """The ``WorkerInfo`` of the worker process this runs in; None in the main process."""
    return _worker_info


def worker_seed(generator, epoch, worker_id):
    """A seed for one worker in one epoch, drawn from nothing (the generator's state is untouched)."""
    initial = (generator or chainrule_random.default_generator).initial_seed()
    return int(xp.random.SeedSequence([initial, epoch, worker_id]).generate_state(1, dtype=xp.uint64)[0] % 2**63)


class _Failure:
    """An exception raised in a worker, carried back with its traceback as text (PyTorch's ExceptionWrapper)."""

    def __init__(self, error, worker_id):
        self.error_type = type(error)
        self.message = f"Caught {type(error).__name__} in DataLoader worker process {worker_id}.\nOriginal {traceback.format_exc()}"

    def reraise(self):
        try:
            error = self.error_type(self.message)
        except Exception:  # a type that can't take one message: say what it was
            raise RuntimeError(self.message) from None
        raise error


def _worker_loop(dataset, collate_fn, batched, tasks, results, worker_id, num_workers, seed, worker_init_fn):
    global _worker_info
    results.cancel_join_thread()  # exit without waiting for the loader to read what is left
    chainrule_random.manual_seed(seed)
    random.seed(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    try:
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
        fetch = Fetcher(dataset, collate_fn, batched)
    except Exception as error:
        results.put((None, _Failure(error, worker_id)))
        return
    while True:
        task = tasks.get()
        if task is None:
            return
        number, indices = task
        try:
            results.put((number, fetch(indices)))
        except Exception as error:
            results.put((number, _Failure(error, worker_id)))


def load_in_workers(loader, tasks, epoch):
    """Yield ``Fetcher(...)(task)`` for every task, in order, computed by ``loader.num_workers`` processes."""
    context = multiprocessing.get_context(loader.multiprocessing_context)
    count = loader.num_workers
    results = context.Queue()
    task_queues = [context.Queue() for _ in range(count)]
    workers = []
    try:
        for worker_id in range(count):
            seed = worker_seed(loader.generator, epoch, worker_id)
            batched = loader.batch_sampler is not None
            arguments = (loader.dataset, loader.collate_fn, batched, task_queues[worker_id], results, worker_id,
                         count, seed, loader.worker_init_fn)
            worker = context.Process(target=_worker_loop, args=arguments, daemon=True)
            worker.start()
            workers.append(worker)
        numbered = enumerate(tasks)
        sent = 0

        def send_next():
            nonlocal sent
            task = next(numbered, None)
            if task is not None:
                task_queues[task[0] % count].put(task)
                sent += 1

        for _ in range(count * loader.prefetch_factor):
            send_next()
        arrived = {}
        number = 0
        while number < sent:
            while number not in arrived:
                arrived_number, batch = _next_result(results, workers, loader.timeout)
                if arrived_number is None:  # a worker failed before its first task
                    batch.reraise()
                arrived[arrived_number] = batch
            batch = arrived.pop(number)
            number += 1
            send_next()
            if isinstance(batch, _Failure):
                batch.reraise()
            yield batch
    finally:
        for task_queue in task_queues:
            task_queue.put(None)
        for worker in workers:
            worker.join(timeout=_POLL_SECONDS)
            if worker.is_alive():
                worker.terminate()
                worker.join()
        for a_queue in task_queues + [results]:
            a_queue.cancel_join_thread()
            a_queue.close()


def _next_result(results, workers, timeout):
    """The next ``(number, batch)`` from any worker; raises if one died or ``timeout`` seconds pass."""
    waited = 0.0
    while True:
        try:
            return results.get(timeout=_POLL_SECONDS if not timeout else min(timeout - waited, _POLL_SECONDS))
        except queue.Empty:
            waited += _POLL_SECONDS
        for worker in workers:
            if worker.exitcode is not None and worker.exitcode != 0:
                raise RuntimeError(
                    f"DataLoader worker (pid {worker.pid}) exited unexpectedly with exit code {worker.exitcode}"
                )
        if timeout and waited >= timeout:
            raise RuntimeError(f"DataLoader timed out after {timeout} seconds")
