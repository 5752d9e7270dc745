"""Where a training run spends its time and memory: one line per stage on stderr, and the same
figures in MLflow (``stage_<name>_seconds``, ``stage_<name>_peak_mib``, ``stages.json``).

Peak memory is the largest resident size seen within the stage, read from ``/proc/self/statm``
every 20 ms by a sampling thread (the kernel's own high-water mark cannot be read per stage
without resetting it for every other tool); without ``/proc`` it is the process's peak so far
(``getrusage``), which only grows.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATM = Path("/proc/self/statm")


@dataclass(frozen=True)
class Stage:
    name: str
    seconds: float
    peak_mib: float
    detail: str = ""  # e.g. "on a stratified sample of 200,000 of 800,000 rows"

    @property
    def key(self) -> str:
        return "".join(c if c.isalnum() else "_" for c in self.name.lower()).strip("_")


PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 4 / 1024
SAMPLE_EVERY_S = 0.02


def _resident_mib() -> float | None:
    try:
        return int(STATM.read_text().split()[1]) * PAGE_MIB
    except (OSError, IndexError, ValueError):
        return None


class _PeakSampler:
    """The largest resident size seen while it runs."""

    def __init__(self) -> None:
        self.peak = _resident_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        if self.peak is not None:
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            now = _resident_mib()
            if now is not None and (self.peak is None or now > self.peak):
                self.peak = now

    def stop(self) -> float:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
        now = _resident_mib()
        if self.peak is None or now is None:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        return max(self.peak, now)


@dataclass
class StageClock:
    """Times the stages of one run, in order; ``show`` gets each stage's line as it ends."""

    show: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr))
    stages: list[Stage] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    @contextmanager
    def stage(self, name: str, detail: str = "") -> Iterator[list[str]]:
        """Time the block as stage ``name``; the block may append to the yielded list a detail
        learnt as it ran (a sample's size)."""
        sampler = _PeakSampler()
        details = [detail] if detail else []
        began = time.perf_counter()
        try:
            yield details
        finally:
            seconds, peak = time.perf_counter() - began, sampler.stop()
        done = Stage(name, seconds, peak, "; ".join(details))
        self.stages.append(done)
        extra = f" ({done.detail})" if done.detail else ""
        self.show(f"stage {name}: {done.seconds:.1f} s, peak {done.peak_mib:,.0f} MiB{extra}")

    @property
    def total_seconds(self) -> float:
        return time.perf_counter() - self.started

    @property
    def peak_mib(self) -> float:
        return max((s.peak_mib for s in self.stages), default=0.0)

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for s in self.stages:
            out[f"stage_{s.key}_seconds"] = s.seconds
            out[f"stage_{s.key}_peak_mib"] = s.peak_mib
        out["stage_total_seconds"] = self.total_seconds
        out["stage_peak_mib"] = self.peak_mib
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "stages": [asdict(s) for s in self.stages],
            "total_seconds": self.total_seconds,
            "peak_mib": self.peak_mib,
        }
