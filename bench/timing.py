"""Timing helpers shared by the bench modules."""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_ms(call: Callable[[], Any], times: int, *, warm_up: bool = False) -> float:
    """Median wall time of `times` calls, in ms (after one untimed call with `warm_up`)."""
    if warm_up:
        call()
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)
