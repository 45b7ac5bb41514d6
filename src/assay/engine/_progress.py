"""Progress: a rich bar (done/total, rate, ETA, errors) on a TTY, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class RunProgress:
    def __init__(self, total: int, *, enabled: bool = True, label: str = "samples") -> None:
        self.total = total
        self.done = 0
        self.errors = 0
        self._label = label
        self._enabled = enabled
        self._tty = sys.stderr.isatty()
        self._started = time.perf_counter()
        self._last_line = 0.0
        self._progress: Progress | None = None
        self._task_id: object = None

    def __enter__(self) -> RunProgress:
        if self._enabled and self._tty:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:.1f}/s"),
                TextColumn("errors {task.fields[errors]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._progress.start()
            self._task_id = self._progress.add_task(
                self._label, total=self.total, rate=0.0, errors=0
            )
        return self

    def advance(self, *, error: bool = False) -> None:
        self.done += 1
        self.errors += int(error)
        elapsed = max(time.perf_counter() - self._started, 1e-9)
        if self._progress is not None:
            self._progress.update(
                self._task_id,  # type: ignore[arg-type]
                completed=self.done,
                rate=self.done / elapsed,
                errors=self.errors,
            )
        elif self._enabled and (
            time.perf_counter() - self._last_line > 10 or self.done == self.total
        ):
            self._last_line = time.perf_counter()
            print(
                f"{self._label}: {self.done}/{self.total} ({self.done / elapsed:.1f}/s, "
                f"errors {self.errors})",
                file=sys.stderr,
                flush=True,
            )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
