"""Where the public data sets live (they are not part of the repository).

`ORDERPILOT_DATASETS` names the folder; without it, a `shared/datasets` folder beside the
checkout is used if there is one. Callers skip with a clear message when a file is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

BESIDE_CHECKOUT = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def dataset(name: str) -> Path:
    """The path of data set file `name` (it may not exist: check before use)."""
    folder = os.environ.get("ORDERPILOT_DATASETS")
    return (Path(folder) if folder else BESIDE_CHECKOUT) / name
