"""The load: wrk runs on the load core, Carrier Desk and its reference interleaved round by
round, and the figures taken from them."""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import LOAD_CORE, pinned

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        raise ValueError(text)
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(
    url: str,
    *,
    seconds: int,
    script: str | None = None,
    connections: int = 32,
    timeout: int | None = None,
) -> dict[str, float]:
    """One wrk run on the load core: req/s, p50 and p99 in ms, non-2xx count, and the
    requests wrk gave up on after `timeout` seconds (its default: 2), which its latencies
    leave out."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if timeout:
        argv.append(f"--timeout={timeout}s")
    if script:
        path = Path(tempfile.mkstemp(suffix=".lua")[1])
        path.write_text(script)
        argv += ["-s", str(path)]
    out = subprocess.run(
        pinned([*argv, url], LOAD_CORE), capture_output=True, text=True, check=True
    )
    text = out.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    late = re.search(r"Socket errors:.*timeout (\d+)", text)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "non2xx": float(bad.group(1)) if bad else 0.0,
        "timeouts": float(late.group(1)) if late else 0.0,
    }


def interleaved(
    systems: dict[str, tuple[str, str | None]],
    *,
    rounds: int,
    seconds: int,
    timeout: int | None = None,
) -> dict[str, list[dict[str, float]]]:
    """Alternate the systems round by round; returns every round's figures per system."""
    results: dict[str, list[dict[str, float]]] = {name: [] for name in systems}
    for _ in range(rounds):
        for name, (url, script) in systems.items():
            results[name].append(wrk(url, seconds=seconds, script=script, timeout=timeout))
    return results


def median(runs: Sequence[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def lua_post(path: str, headers: dict[str, str], body: dict[str, Any]) -> str:
    """A wrk script POSTing `body` with a fresh Idempotency-Key on every request."""
    head = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in headers.items())
    payload = json.dumps(json.dumps(body))
    return (
        'wrk.method = "POST"\n'
        f"{head}"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {payload}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        '  wrk.headers["Idempotency-Key"] =\n'
        '    string.format("%d-%d-%d", os.time(), math.random(1e9), n)\n'
        f'  return wrk.format(nil, "{path}")\n'
        "end\n"
    )


def lua_get_many(paths: Sequence[str], headers: dict[str, str]) -> str:
    """A wrk script GETting the given paths round-robin."""
    head = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in headers.items())
    table = ",\n".join(json.dumps(p) for p in paths)
    return (
        f"{head}local paths = {{\n{table}\n}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i])\n'
        "end\n"
    )
