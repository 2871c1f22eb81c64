"""Dask execution gives bit-for-bit the same replicates as the in-process run (processes)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

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
