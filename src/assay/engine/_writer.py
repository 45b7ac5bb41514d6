"""Batched store writes: rows collect in memory and are flushed together every few hundred ms.

A score is queued after its request, and both buffers flush in one transaction, so the store
never holds a score without the response it was computed from.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

from assay._errors import StoreError
from assay.store._store import Store

Row = dict[str, Any]


class BatchWriter:
    def __init__(self, store: Store, *, max_rows: int = 512, interval_s: float = 0.2) -> None:
        self._store = store
        self._max_rows = max_rows
        self._interval_s = interval_s
        self._requests: list[Row] = []
        self._scores: list[Row] = []
        self._lock = asyncio.Lock()
        self._ticker: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._warned = False

    def start(self) -> None:
        self._ticker = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            await self._flush_quietly()

    async def _flush_quietly(self) -> None:
        try:
            await self.flush()
        except StoreError as exc:
            # Rows stay queued; the next tick (or close, which raises) tries again.
            if not self._warned:
                print(f"assay: warning: {exc}; retrying", file=sys.stderr)
                self._warned = True

    def add_request(self, row: Row) -> None:
        self._requests.append(row)

    def add_score(self, row: Row) -> None:
        self._scores.append(row)
        if len(self._scores) + len(self._requests) >= self._max_rows and not self._lock.locked():
            task = asyncio.create_task(self._flush_quietly())
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def flush(self) -> None:
        async with self._lock:
            requests, self._requests = self._requests, []
            scores, self._scores = self._scores, []
            if not (requests or scores):
                return
            try:
                if self._store.dialect == "sqlite":
                    # A local SQLite batch takes milliseconds; a thread would cost more in GIL
                    # contention with the event loop than it saves.
                    self._store.write_batch(requests, scores)
                else:
                    await asyncio.to_thread(self._store.write_batch, requests, scores)
            except StoreError:
                self._requests[:0] = requests
                self._scores[:0] = scores
                raise

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._pending:
            await asyncio.gather(*self._pending)
        await self.flush()
