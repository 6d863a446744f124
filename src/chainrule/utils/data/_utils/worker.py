"""Worker processes for ``DataLoader(num_workers=N)``, as ``torch.utils.data._utils.worker``.

The loader's process draws the order (the sampler runs there, exactly as with ``num_workers=0``)
and hands task ``k`` to the workers in turn, keeping ``prefetch_factor`` tasks ahead per worker.
Each worker fetches and collates its batches (with its own ``DatasetKind.create_fetcher``) and
sends them back pickled; the loader yields them in task order whatever order they arrive in (or as
they arrive, with ``in_order=False``). So the batches are those of ``num_workers=0``, batch for batch.
An IterableDataset is read by every worker from its own copy, as in PyTorch (``get_worker_info()``
tells a worker its share); a worker whose stream has ended answers so, and leaves the turn.

Seeds, as PyTorch's: each ``iter(loader)`` draws one ``base_seed`` from the loader's generator (the
global one when None), whatever ``num_workers``. Worker ``i`` then seeds chainrule's global
generator and Python's ``random`` with ``base_seed + i`` (its ``get_worker_info().seed``) and
NumPy's global generator with four 32-bit words mixed from ``base_seed`` and ``i``
(``_generate_state``), before ``worker_init_fn`` runs. So random augmentations differ across
workers and epochs, and ``chainrule.manual_seed`` makes them reproducible. With
``persistent_workers`` the workers, their seeds and their copies of the dataset last for the
loader's lifetime; each epoch restarts their fetching.
"""
import dataclasses
import itertools
import os
import queue
import random
import signal
import traceback

from chainrule import random as chainrule_random
from chainrule.utils.data._utils.fetch import DatasetKind

try:  # seeded in every worker when importable, as PyTorch does: dataset code draws from it
    import numpy

    HAS_NUMPY = True
except ModuleNotFoundError:
    HAS_NUMPY = False

MP_STATUS_CHECK_INTERVAL = 5.0  # seconds a worker waits for a task before checking its loader lives
_POLL_SECONDS = 1.0  # the loader checks its workers are alive this often while it waits
_worker_info = None


@dataclasses.dataclass(frozen=True, slots=True)
class WorkerInfo:
    """Which worker this is: ``id`` (0 to ``num_workers - 1``), ``num_workers``, ``seed`` (the seed of
    its generators) and ``dataset`` (this worker's copy). ``rng`` and ``worker_method`` are PyTorch's
    fields for thread workers: None and "multiprocessing" here."""

    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str = "multiprocessing"


def get_worker_info():
    """The ``WorkerInfo`` of the worker process this runs in; None in the main process."""
    return _worker_info


def _generate_state(base_seed, worker_id):
    """The NumPy seed of worker ``worker_id``: four uint32 words, as PyTorch's ``_generate_state``.

    PyTorch's function is NumPy's ``SeedSequence`` hashing written out in Python, applied to the
    words ``[worker_id, low 32 bits, high 32 bits, 0]``; so is this. A seed of its own keeps NumPy's
    stream apart from those of ``random`` and chainrule, seeded with ``base_seed + worker_id``.
    """
    entropy = [worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0]
    return numpy.random.SeedSequence(entropy).generate_state(4).tolist()


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


@dataclasses.dataclass(frozen=True)
class _ResumeIteration:
    """Sent to persistent workers at the start of each epoch after the first: restart fetching."""


def _seed_this_process(base_seed, worker_id):
    seed = base_seed + worker_id
    random.seed(seed)
    chainrule_random.manual_seed(seed)
    if HAS_NUMPY:
        numpy.random.seed(_generate_state(base_seed, worker_id))
    return seed


def _set_worker_signal_handlers():
    """A worker ends when asked to: SIGTERM back to its default action, as PyTorch's workers set it.

    A forked worker inherits the loader process's handlers; a SIGTERM handler there (Lightning
    installs one) would swallow the ``terminate()`` with which multiprocessing ends daemonic workers
    at interpreter exit, and the exit would wait for them forever."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _worker_loop(fetching, tasks, results, worker_id, num_workers, base_seed, worker_init_fn):
    """One worker: seed, run ``worker_init_fn``, then answer each ``(number, index)`` until None comes.

    ``fetching`` is what ``DatasetKind.create_fetcher`` takes: ``(dataset_kind, dataset,
    auto_collation, collate_fn, drop_last)``; ``dataset`` is this worker's copy (``get_worker_info()``'s).
    """
    global _worker_info
    results.cancel_join_thread()  # exit without waiting for the loader to read what is left
    try:
        _set_worker_signal_handlers()
        seed = _seed_this_process(base_seed, worker_id)
        dataset_kind, dataset = fetching[:2]
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_failure = None
        try:
            if worker_init_fn is not None:
                worker_init_fn(worker_id)
            fetcher = DatasetKind.create_fetcher(*fetching)
        except Exception as error:  # answered to the first task, which raises it in the loader
            init_failure = _Failure(error, worker_id)
        exhausted = False  # this worker's copy of a stream has ended: its later tasks are answered so
        loader_pid = os.getppid()
        while os.getppid() == loader_pid:
            try:
                task = tasks.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if task is None:
                return
            if isinstance(task, _ResumeIteration):
                results.put((task, None))
                exhausted = False
                if init_failure is None:
                    fetcher = DatasetKind.create_fetcher(*fetching)
                continue
            number, index = task
            if init_failure is not None:
                results.put((number, init_failure))
                continue
            if not exhausted:
                try:
                    answer = fetcher.fetch(index)
                except Exception as error:
                    if isinstance(error, StopIteration) and dataset_kind == DatasetKind.Iterable:
                        exhausted = True
                    else:
                        answer = _Failure(error, worker_id)
            results.put((number, _Exhausted() if exhausted else answer))
    except KeyboardInterrupt:  # the loader's process gets it too, and raises it there
        pass


class WorkerPool:
    """The ``num_workers`` worker processes of one loader iterator (of every epoch, with
    ``persistent_workers``), started from ``context`` (a ``multiprocessing`` context, or the module).

    Each makes its fetcher from ``fetching`` (``DatasetKind.create_fetcher``'s arguments) and is
    seeded from ``base_seed`` (see the module's description); ``batches(tasks)`` is one epoch, keeping
    ``prefetch_factor`` tasks ahead per worker, waiting at most ``timeout`` seconds (0: forever) for
    one, in task order or, with ``in_order=False``, as they come.
    """

    def __init__(
        self, fetching, base_seed, worker_init_fn, *, num_workers, context, prefetch_factor, timeout, in_order
    ):
        self.count = num_workers
        self.prefetch_factor = prefetch_factor
        self.timeout = timeout
        self.in_order = in_order
        self.results = context.Queue()
        self.task_queues = [context.Queue() for _ in range(num_workers)]
        self.workers = []
        self.epochs = 0
        self.closed = False
        try:
            for worker_id in range(num_workers):
                arguments = (
                    fetching, self.task_queues[worker_id], self.results, worker_id, num_workers, base_seed,
                    worker_init_fn,
                )
                worker = context.Process(target=_worker_loop, args=arguments, daemon=True)
                worker.start()
                self.workers.append(worker)
        except BaseException:
            self.shutdown()
            raise

    def batches(self, tasks, shutdown_at_end=True):
        """Yield what the workers make of every task; for a stream (``tasks`` endless), each
        worker's next batch in turn until all have ended. ``shutdown_at_end``: stop the workers when
        the epoch ends or is abandoned (False for persistent workers)."""
        try:
            if self.epochs:
                self._resume()
            self.epochs += 1
            yield from self._epoch(enumerate(tasks))
        finally:
            if shutdown_at_end:
                self.shutdown()

    def _resume(self):
        """Restart every worker's fetching, dropping the answers to tasks of an abandoned epoch."""
        for task_queue in self.task_queues:
            task_queue.put(_ResumeIteration())
        acknowledged = 0
        while acknowledged < self.count:
            number, _ = self._next_result()
            acknowledged += isinstance(number, _ResumeIteration)

    def _epoch(self, numbered):
        count, most_ahead = self.count, self.prefetch_factor * self.count
        active = [True] * count  # False once a worker's stream has ended
        in_flight = [0] * count  # tasks given to each worker and not answered yet
        turn = itertools.cycle(range(count))
        owner = {}  # task number -> the worker it was given to, until answered
        arrived = {}  # answers waiting for their turn to be yielded
        sent = yielded = 0

        def send_next():
            nonlocal sent
            task = next(numbered, None) if any(active) else None
            if task is None:
                return
            share = most_ahead // sum(active)
            for _ in range(count):  # the next active worker in turn; with in_order=False, as PyTorch,
                worker = next(turn)  # one that has fewer than its share of tasks (a slow one waits)
                if active[worker] and (self.in_order or in_flight[worker] < share):
                    break
            else:  # all have their share: the least busy (PyTorch would drop the task here)
                worker = min((worker for worker in range(count) if active[worker]), key=in_flight.__getitem__)
            self.task_queues[worker].put(task)
            owner[task[0]] = worker
            in_flight[worker] += 1
            sent += 1

        def receive():
            number, answer = self._next_result()
            worker = owner.pop(number)
            in_flight[worker] -= 1
            if isinstance(answer, _Exhausted) and active[worker]:  # its later tasks are answered the same, and skipped
                active[worker] = False
                send_next()  # in place of this task, as PyTorch (not of the skipped ones)
            return number, answer

        for _ in range(most_ahead):
            send_next()
        while yielded < sent:
            if self.in_order:
                while yielded not in arrived:
                    number, answer = receive()
                    arrived[number] = answer
                answer = arrived.pop(yielded)
            else:
                _, answer = receive()
            yielded += 1
            if isinstance(answer, _Exhausted):
                continue
            send_next()
            if isinstance(answer, _Failure):
                answer.reraise()
            yield answer

    def _next_result(self):
        """The next ``(number, answer)`` from any worker; raises if one died or ``timeout`` seconds pass."""
        waited = 0.0
        while True:
            wait = _POLL_SECONDS if not self.timeout else min(self.timeout - waited, _POLL_SECONDS)
            try:
                return self.results.get(timeout=wait)
            except queue.Empty:
                waited += wait
            for worker in self.workers:
                if worker.exitcode is not None and worker.exitcode != 0:
                    raise RuntimeError(
                        f"DataLoader worker (pid {worker.pid}) exited unexpectedly with exit code {worker.exitcode}"
                    )
            if self.timeout and waited >= self.timeout:
                raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds")

    def shutdown(self):
        """Stop the workers and close the queues (once; later calls do nothing)."""
        if self.closed:
            return
        self.closed = True
        for task_queue in self.task_queues:
            task_queue.put(None)
        for worker in self.workers:
            worker.join(timeout=_POLL_SECONDS)
            if worker.is_alive():
                worker.terminate()
                worker.join()
        for a_queue in self.task_queues + [self.results]:
            a_queue.cancel_join_thread()
            a_queue.close()

    def __del__(self):
        if hasattr(self, "closed"):  # not when __init__ failed before it
            try:
                self.shutdown()
            except (OSError, ValueError):  # at interpreter exit the queues may be gone already
                pass
