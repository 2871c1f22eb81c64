"""Write the hand-made datasets of ``tests/cdisc/cdisc_samples.py`` as XPT files for haven.

Run from the repository root, then run ``Rscript tests/reference/haven_read.R``::

    PYTHONPATH=src python tests/reference/make_haven_inputs.py

writes ``tests/data/haven/<name lower>.xpt`` with :func:`equitrial.cdisc.xpt.write_xpt`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "cdisc"))

from cdisc_samples import samples  # noqa: E402

from equitrial.cdisc.xpt import write_xpt  # noqa: E402


def main() -> None:
    """Write every sample dataset into ``tests/data/haven``."""
    out = ROOT / "tests" / "data" / "haven"
    out.mkdir(parents=True, exist_ok=True)
    for dataset in samples():
        write_xpt(dataset, out / f"{dataset.name.lower()}.xpt")


if __name__ == "__main__":
    main()
