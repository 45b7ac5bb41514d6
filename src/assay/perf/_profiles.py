"""Load profiles: how requests are offered to a target, and when a step stops.

Closed loop (sync, concurrent, sweep): N workers, each sends its next request when the last
one ends. Open loop (constant, poisson): requests start at scheduled instants, computed as
absolute deadlines from the step's start so scheduling error never accumulates.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from assay._errors import SpecError

ProfileKind = Literal["sync", "concurrent", "sweep", "constant", "poisson"]
PROFILES: tuple[ProfileKind, ...] = ("sync", "concurrent", "sweep", "constant", "poisson")


@dataclass(frozen=True)
class Step:
    name: str
    concurrency: int | None = None  # closed loop
    rate_per_s: float | None = None  # open loop
    poisson: bool = False

    def arrivals_s(self, count: int, seed: int) -> list[float]:
        """Scheduled start times (seconds from the step's start) of `count` requests."""
        assert self.rate_per_s is not None
        if not self.poisson:
            return [index / self.rate_per_s for index in range(count)]
        rng = random.Random(seed)
        times, now = [], 0.0
        for _ in range(count):
            times.append(now)
            now += rng.expovariate(self.rate_per_s)
        return times


@dataclass(frozen=True)
class LoadProfile:
    kind: ProfileKind
    concurrency: tuple[int, ...] = (1,)
    rates_per_s: tuple[float, ...] = ()
    requests: int | None = None
    duration_s: float | None = None
    warmup: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.requests is None and self.duration_s is None:
            raise SpecError("give --requests N or --duration S to bound each step")
        if self.kind in ("constant", "poisson") and not self.rates_per_s:
            raise SpecError(f"--profile {self.kind} needs --rate R[,R...] (requests per second)")
        if any(c < 1 for c in self.concurrency) or any(r <= 0 for r in self.rates_per_s):
            raise SpecError("--concurrency and --rate take positive numbers")

    def steps(self) -> list[Step]:
        if self.kind == "sync":
            return [Step("sync", concurrency=1)]
        if self.kind == "concurrent":
            return [Step(f"c={self.concurrency[0]}", concurrency=self.concurrency[0])]
        if self.kind == "sweep":
            return [Step(f"c={c}", concurrency=c) for c in self.concurrency]
        poisson = self.kind == "poisson"
        return [
            Step(f"{self.kind} {r:g}/s", rate_per_s=r, poisson=poisson) for r in self.rates_per_s
        ]


def parse_numbers(
    text: str | None, kind: type[int] | type[float], option: str
) -> tuple[float, ...]:
    if not text:
        return ()
    try:
        return tuple(kind(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise SpecError(f"{option} {text!r}: expected numbers separated by commas") from None
