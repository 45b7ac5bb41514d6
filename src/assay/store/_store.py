"""The results store: one small interface over SQLite (WAL, the default) or PostgreSQL by URL.

Writes are batched by the engine; reads serve the report, which never sees in-memory state.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event, inspect, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from assay._errors import StoreError
from assay._redact import redact
from assay.store import _schema as schema

Row = dict[str, Any]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class RunData:
    """Everything the store holds about one run, as plain rows."""

    run: Row
    tasks: list[Row]
    samples: list[Row]
    # Every role's requests; each row's `role` says whose ("target", "judge", ...).
    requests: list[Row]
    # The scores of the answers under test (role "target"): what the metrics are computed from.
    scores: list[Row]
    perf_samples: list[Row]
    # Per-task metrics as the engine computed them at the end of the run (none for old runs).
    metrics: list[Row]
    # The scores other roles earned (a judge's grades of human-labelled answers), by `role`.
    role_scores: list[Row] = field(default_factory=list)


# Before rows kept their role, a judge's requests were stored under "<task>:judge" and its
# grades of labelled answers under "<task>:judge-check"; read back with the role as a field.
_LEGACY_ROLE_SUFFIXES = ((":judge-check", "judge"), (":judge", "judge"))


def with_role(row: Row) -> Row:
    if row.get("role") is None:
        row["role"] = "target"
        for suffix, role in _LEGACY_ROLE_SUFFIXES:
            if row["task"].endswith(suffix):
                row["task"], row["role"] = row["task"][: -len(suffix)], role
                break
    return row


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # busy_timeout first: switching to WAL needs a lock that another process may hold.
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self._safe_url = url
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):
            raise StoreError(
                f"--store {redact(url)!r}: not a database URL; use "
                "sqlite:///path/assay.db or postgresql+psycopg://user@host/db"
            ) from None
        self._safe_url = parsed.render_as_string(hide_password=True)
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite" and parsed.database and parsed.database != ":memory:":
            parent = Path(parsed.database).expanduser().parent
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"{self._safe_url}: cannot create the directory {parent} ({exc.strerror})"
                ) from None
        try:
            self.engine: Engine = create_engine(
                parsed, future=True, pool_pre_ping=self.dialect != "sqlite"
            )
        except (ArgumentError, ImportError, SQLAlchemyError) as exc:
            raise StoreError(f"{self._safe_url}: cannot open the store ({exc})") from None
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            self._create_schema()
        except SQLAlchemyError as exc:
            message = str(exc.orig if hasattr(exc, "orig") else exc).splitlines()[0]
            raise StoreError(
                f"{self._safe_url}: cannot open the store ({message}); check the URL and "
                "that the database server is running"
            ) from None

    def _create_schema(self, attempts: int = 5) -> None:
        # Processes opening a new store at once all see no tables and all create them; the
        # losers fail with "already exists" (or, on SQLite, "database is locked" when a read
        # cannot become a write). Once the winner has committed, a retry sees them.
        for attempt in range(1, attempts + 1):
            try:
                schema.metadata.create_all(self.engine)
                self._add_missing_columns()
                return
            except SQLAlchemyError as exc:
                message = str(exc)
                lost_race = any(
                    sign in message
                    for sign in (
                        "already exists",
                        "pg_type_typname_nsp_index",
                        "duplicate column",
                        "database is locked",
                    )
                )
                if not lost_race or attempt == attempts:
                    raise
                time.sleep(0.05 * attempt)

    def _add_missing_columns(self) -> None:
        """Additive migration: a store written by an older assay gets the nullable columns
        added since (create_all makes missing tables, never missing columns)."""
        found = inspect(self.engine)
        for table in schema.metadata.sorted_tables:
            have = {column["name"] for column in found.get_columns(table.name)}
            for column in table.columns:
                if column.name in have:
                    continue
                if not column.nullable:
                    raise StoreError(
                        f"{self._safe_url}: table {table.name} lacks column {column.name}; "
                        "this store was written by an incompatible assay, use a new store"
                    )
                kind = column.type.compile(dialect=self.engine.dialect)
                with self.engine.begin() as conn:
                    conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))

    def close(self) -> None:
        self.engine.dispose()

    # -- runs --------------------------------------------------------------------------------

    def get_run(self, run_id: str) -> Row | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(schema.runs).where(schema.runs.c.run_id == run_id)).first()
        return dict(row._mapping) if row else None

    def create_run(self, row: Row) -> None:
        with self.engine.begin() as conn:
            conn.execute(schema.runs.insert().values(**row))

    def update_run(self, run_id: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(schema.runs)
                .where(schema.runs.c.run_id == run_id)
                .values(updated=utcnow(), **values)
            )

    def list_runs(self) -> list[Row]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(schema.runs).order_by(schema.runs.c.created)).all()
        return [dict(row._mapping) for row in rows]

    def copy_run(self, source: str, run: Row, *, skip_roles: Sequence[str] = ()) -> None:
        """A new run `run` (its row) holding `source`'s tasks, samples and requests (those of
        `skip_roles` left out), but none of its scores or metrics: what `assay rejudge` scores
        again under a new run id, the source left as it was."""
        new_id = run["run_id"]
        with self.engine.begin() as conn:
            conn.execute(schema.runs.insert().values(**run))
            for table in (schema.tasks, schema.samples, schema.requests):
                query = select(table).where(table.c.run_id == source)
                copied = []
                for found in conn.execute(query):
                    row = dict(found._mapping)
                    if table is schema.requests:
                        if with_role(dict(row))["role"] in skip_roles:
                            continue
                        row.pop("id")
                    copied.append({**row, "run_id": new_id})
                if copied:
                    conn.execute(table.insert(), copied)

    # -- tasks and samples -------------------------------------------------------------------

    def save_task(self, task_row: Row, sample_rows: Sequence[Row]) -> None:
        with self.engine.begin() as conn:
            self._upsert(conn, schema.tasks, [task_row], ("run_id", "task"))
            self._insert_ignore(conn, schema.samples, sample_rows, ("run_id", "task", "sample_id"))

    # -- requests and scores ---------------------------------------------------------------

    def load_cache(self, run_id: str, *, failed: bool = False) -> dict[str, Row]:
        """Successful responses of a run by cache key (with `failed`, failed ones too: what
        `assay rescore` replays); the newest wins."""
        table = schema.requests
        query = select(table).where(table.c.run_id == run_id).order_by(table.c.id)
        if not failed:
            query = query.where(table.c.error_class.is_(None))
        with self.engine.connect() as conn:
            return {row.cache_key: dict(row._mapping) for row in conn.execute(query)}

    def write_batch(self, request_rows: Sequence[Row], score_rows: Sequence[Row]) -> None:
        try:
            with self.engine.begin() as conn:
                if request_rows:
                    conn.execute(schema.requests.insert(), list(request_rows))
                if score_rows:
                    self._upsert(
                        conn, schema.scores, score_rows, ("run_id", "task", "sample_id", "epoch")
                    )
        except SQLAlchemyError as exc:
            raise StoreError(f"{self._safe_url}: write failed ({type(exc).__name__})") from None

    def write_perf(self, rows: Sequence[Row]) -> None:
        with self.engine.begin() as conn:
            conn.execute(schema.perf_samples.insert(), list(rows))

    def save_metrics(self, rows: Sequence[Row]) -> None:
        with self.engine.begin() as conn:
            self._upsert(conn, schema.metrics, rows, ("run_id", "task", "metric"))

    def read_run(self, run_id: str, *, scores_only: bool = False) -> RunData:
        """Everything stored for a run. `scores_only`: the run, its tasks, scores and metrics,
        with samples, requests and perf samples left empty (what metrics are computed from;
        the requests are the bulk of a run)."""
        run = self.get_run(run_id)
        if run is None:
            known = ", ".join(r["run_id"] for r in self.list_runs()[-5:]) or "none"
            raise StoreError(
                f"run {run_id!r} is not in {self._safe_url}; recent runs: {known} (assay list runs)"
            )
        with self.engine.connect() as conn:

            def rows(table: Table, order: Iterable[str], *, bulk: bool = False) -> list[Row]:
                if bulk and scores_only:
                    return []
                query = select(table).where(table.c.run_id == run_id)
                query = query.order_by(*(table.c[name] for name in order))
                return [dict(r._mapping) for r in conn.execute(query)]

            scores = [with_role(row) for row in rows(schema.scores, ["task", "sample_id", "epoch"])]
            return RunData(
                run=run,
                tasks=rows(schema.tasks, ["task"]),
                samples=rows(schema.samples, ["task", "position"], bulk=True),
                requests=[with_role(row) for row in rows(schema.requests, ["id"], bulk=True)],
                scores=[row for row in scores if row["role"] == "target"],
                perf_samples=rows(schema.perf_samples, ["id"], bulk=True),
                metrics=rows(schema.metrics, ["task", "metric"]),
                role_scores=[row for row in scores if row["role"] != "target"],
            )

    # -- dialect helpers ---------------------------------------------------------------------

    def _dialect_insert(self, table: Table) -> Any:
        return postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)

    def _upsert(
        self, conn: Any, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
    ) -> None:
        if not rows:
            return
        statement = self._dialect_insert(table)
        columns = {c.name: statement.excluded[c.name] for c in table.c if c.name not in keys}
        conn.execute(
            statement.on_conflict_do_update(index_elements=list(keys), set_=columns), list(rows)
        )

    def _insert_ignore(
        self, conn: Any, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
    ) -> None:
        if not rows:
            return
        statement = self._dialect_insert(table).on_conflict_do_nothing(index_elements=list(keys))
        conn.execute(statement, list(rows))


def default_store_url(out_dir: str | Path) -> str:
    return f"sqlite:///{Path(out_dir).resolve() / 'assay.db'}"
