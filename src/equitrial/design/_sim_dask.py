"""Running the simulation chunks: in this process, or on Dask (a LocalCluster or a scheduler).

Every chunk carries its own seed, so where a chunk runs has no effect on its result; results
are returned in chunk order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["run_chunks"]

T = TypeVar("T")
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
    here, or the existing scheduler at ``scheduler`` (``"tcp://host:port"``).
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
        futures = [client.submit(kernel, *task, pure=False) for task in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        total, done = sum(weights), 0
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            done += weights[index[future.key]]
            if progress is not None:
                progress(done, total)
        results: list[T] = client.gather(futures)  # type: ignore[no-untyped-call]
        return results
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()
