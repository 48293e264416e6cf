"""Memory of `serve` at rest and under read load, with N tickets (1,000,000 by default).

uv run python -m bench.memory [--tickets 1000000]
"""

from __future__ import annotations

import sys

from bench.reads import main

if __name__ == "__main__":
    main([*sys.argv[1:], "--rounds", "1", "--seconds", "10"], memory_only=True)
