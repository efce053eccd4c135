"""Concurrent waves of independent reads: the one place the reader fans out requests."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["Rows", "run_wave", "run_jobs"]

K = TypeVar("K")
V = TypeVar("V")
#: A list job's result: the rows and how many pages it took.
Rows = tuple[list[dict[str, Any]], int]


def run_jobs(jobs: dict[K, Callable[[], V]], concurrency: int) -> dict[K, V]:
    """Run jobs concurrently and wait for all of them; the error of the first job (in the
    jobs' order) that failed propagates, so a lookup listed first decides what is reported."""
    if not jobs:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(jobs)))) as pool:
        futures = {key: pool.submit(job) for key, job in jobs.items()}
        return {key: fut.result() for key, fut in futures.items()}


def run_wave(jobs: dict[K, Callable[[], Rows]], concurrency: int) -> dict[K, Rows]:
    """Run list jobs concurrently; the first error (already translated) propagates."""
    return run_jobs(jobs, concurrency)
