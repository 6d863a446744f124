"""Worker processes for ``DataLoader(num_workers=N)``: batches loaded in parallel, yielded in order.

The loader's process draws the order (the sampler runs there, exactly as with ``num_workers=0``)
and hands batch ``k`` to worker ``k mod N``, keeping ``prefetch_factor`` tasks ahead per worker.
An IterableDataset is read by every worker from its own copy, as in PyTorch (``get_worker_info()``
tells a worker its share): the tasks go to the workers in turn, and a worker whose stream has ended
answers that it has, and leaves the turn.
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
from chainrule.utils.data.dataset import IterableDataset
from chainrule.utils.data.fetch import Fetcher, stream_batches

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


class _Exhausted:
    """What a worker sends back for a task once its copy of a stream has no batch left."""


def _worker_loop(dataset, batching, tasks, results, worker_id, num_workers, seed, worker_init_fn):
    """One worker: ``batching`` is ``(collate_fn, batched, batch_size, drop_last)`` of its loader."""
    global _worker_info
    results.cancel_join_thread()  # exit without waiting for the loader to read what is left
    chainrule_random.manual_seed(seed)
    random.seed(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    collate_fn, batched, batch_size, drop_last = batching
    try:
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
        if isinstance(dataset, IterableDataset):  # this worker's own copy of the stream, read in turn
            batches = stream_batches(dataset, batch_size, drop_last, collate_fn)
            fetch = lambda _: next(batches, _Exhausted())  # noqa: E731
        else:
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
    """Yield ``Fetcher(...)(task)`` for every task, in order, computed by ``loader.num_workers``
    processes; for a stream (``tasks`` endless), each worker's next batch in turn until all end."""
    context = multiprocessing.get_context(loader.multiprocessing_context)
    count = loader.num_workers
    results = context.Queue()
    task_queues = [context.Queue() for _ in range(count)]
    workers = []
    try:
        batching = (loader.collate_fn, loader.batch_sampler is not None, loader.batch_size, loader.drop_last)
        for worker_id in range(count):
            seed = worker_seed(loader.generator, epoch, worker_id)
            arguments = (loader.dataset, batching, task_queues[worker_id], results, worker_id, count, seed, loader.worker_init_fn)
            worker = context.Process(target=_worker_loop, args=arguments, daemon=True)
            worker.start()
            workers.append(worker)
        numbered = enumerate(tasks)
        active = list(range(count))  # the workers still given tasks, in turn
        owner = {}  # task number -> the worker it was given to
        sent = 0

        def send_next():
            nonlocal sent
            task = next(numbered, None) if active else None
            if task is not None:
                owner[task[0]] = active[sent % len(active)]
                task_queues[owner[task[0]]].put(task)
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
            if isinstance(batch, _Exhausted) and owner[number] in active:  # its stream ended: no more tasks for it
                active.remove(owner[number])
            number += 1
            send_next()
            if isinstance(batch, _Failure):
                batch.reraise()
            if not isinstance(batch, _Exhausted):
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
