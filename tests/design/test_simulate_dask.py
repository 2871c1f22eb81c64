"""Dask execution gives bit-for-bit the same replicates as the in-process run (processes)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from equitrial.design._sim_dask import _batches
from equitrial.design.simulate import TrialSpec, simulate


def test_one_worker_equals_two_dask_worker_processes(tmp_path: Path) -> None:
    spec = TrialSpec()
    local = simulate(spec, replicates=2_000, seed=42, chunk_size=500, out_dir=tmp_path / "one")
    dask = simulate(
        spec, replicates=2_000, seed=42, chunk_size=500, workers=2, out_dir=tmp_path / "two"
    )
    assert local.scenarios == dask.scenarios
    one = pq.read_table(local.parquet_path).to_pandas()
    two = pq.read_table(dask.parquet_path).to_pandas()
    # exact equality, NaN (an interim not evaluable) equal to NaN
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_guided_batches_cover_every_task_once_in_order_and_shrink() -> None:
    for n_tasks, n_workers in [(600, 2), (7, 3), (1, 4), (100, 1)]:
        batches = _batches(n_tasks, n_workers)
        assert [i for b in batches for i in b] == list(range(n_tasks))
        lengths = [len(b) for b in batches]
        assert lengths == sorted(lengths, reverse=True)
        assert lengths[-1] == 1
    # far fewer Dask tasks than simulation tasks on the flagship's 200 chunks x 3 scenarios
    assert len(_batches(600, 2)) < 60
