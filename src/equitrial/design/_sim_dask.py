"""Running the simulation chunks: in this process, or on Dask (a LocalCluster or a scheduler).

Every chunk carries its own seed, so where a chunk runs has no effect on its result; results
are returned in chunk order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["run_chunks"]

T = TypeVar("T")
# Dask runs the tasks in batches, each 1 / (GUIDED_SHARE * workers) of what is left: few enough
# batches that Dask's per-task cost (scheduling, pickling the trial spec, a message each way)
# stays small beside the simulation itself, and short ones at the end to keep workers busy.
GUIDED_SHARE = 4
Progress = Callable[[int, int], None]


def run_chunks(
    kernel: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    weights: Sequence[int],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[T]:
    """``[kernel(*task) for task in tasks]``, possibly on Dask, reporting progress by weight.

    ``weights[i]`` is the number of replicates task ``i`` simulates; after each task finishes,
    ``progress(done, total)`` is called with the cumulative weight. With ``workers == 1`` and no
    ``scheduler`` the tasks run here, in order; otherwise on a ``dask.distributed`` client: a
    ``LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)`` created and closed
    here, or the existing scheduler at ``scheduler`` (``"tcp://host:port"``), which runs
    consecutive tasks in batches of decreasing length (:func:`_batches`).
    """
    total = sum(weights)
    if workers == 1 and scheduler is None:
        results = []
        done = 0
        for task, weight in zip(tasks, weights, strict=True):
            results.append(kernel(*task))
            done += weight
            if progress is not None:
                progress(done, total)
        return results
    return _run_dask(kernel, tasks, weights, workers, scheduler, progress)


def _batches(n_tasks: int, n_workers: int) -> list[range]:
    """``range(n_tasks)`` cut into consecutive batches of decreasing length (guided schedule).

    Each batch takes ``1 / (GUIDED_SHARE * n_workers)`` of the tasks still left, at least one:
    early batches are long (little per-task cost from Dask), the last ones single tasks (a
    worker that finishes early has little to wait for).
    """
    batches, start = [], 0
    while start < n_tasks:
        size = max(1, math.ceil((n_tasks - start) / (GUIDED_SHARE * n_workers)))
        batches.append(range(start, start + size))
        start += size
    return batches


def _run_batch(kernel: Callable[..., T], batch: Sequence[tuple[Any, ...]]) -> list[T]:
    return [kernel(*task) for task in batch]


def _run_dask(
    kernel: Callable[..., T],
    tasks: Sequence[tuple[Any, ...]],
    weights: Sequence[int],
    workers: int,
    scheduler: str | None,
    progress: Progress | None,
) -> list[T]:
    import dask
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        # Dask's nanny sets MALLOC_TRIM_THRESHOLD_ in its workers, which also turns off glibc's
        # dynamic mmap threshold: every large numpy temporary is then a fresh mmap and its page
        # faults, and two such workers ran slower than this process alone. Unset, the workers
        # allocate as this process does.
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
        client = Client(cluster)  # type: ignore[no-untyped-call]
    else:
        client = Client(scheduler)  # type: ignore[no-untyped-call]
    try:
        n_workers = workers if scheduler is None else len(client.scheduler_info()["workers"])
        batches = _batches(len(tasks), max(n_workers, 1))
        futures = [
            client.submit(_run_batch, kernel, [tasks[i] for i in b], pure=False) for b in batches
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        total, done = sum(weights), 0
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            done += sum(weights[i] for i in batches[index[future.key]])
            if progress is not None:
                progress(done, total)
        gathered: list[list[T]] = client.gather(futures)  # type: ignore[no-untyped-call]
        return [result for batch in gathered for result in batch]
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()
