"""The handbooks' facts, as data: `app/data/handbook.toml` (a verbatim copy of the shared file)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

HANDBOOK_PATH = Path(__file__).resolve().parents[1] / "data" / "handbook.toml"


@lru_cache
def handbook() -> dict[str, Any]:
    with HANDBOOK_PATH.open("rb") as fh:
        return tomllib.load(fh)
