"""Tables of the results store (SQLAlchemy Core). One schema for SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("assay_version", String(32), nullable=False),
    Column("target_spec", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("capabilities", JSON, nullable=False),
    # RunSpec as the user gave it, plus versions and seeds: enough to rebuild the run.
    Column("manifest", JSON, nullable=False),
    # One entry per invocation: requests needed, cached, sent, and when.
    Column("invocations", JSON, nullable=False),
)

tasks = Table(
    "tasks",
    metadata,
    Column("run_id", String(64), nullable=False),
    Column("task", String(128), nullable=False),
    Column("dimension", String(64), nullable=False),
    Column("metric", String(64), nullable=False),
    Column("dataset_hash", String(64), nullable=False),
    Column("n_samples", Integer, nullable=False),
    Column("info", JSON, nullable=False),
    PrimaryKeyConstraint("run_id", "task"),
)

samples = Table(
    "samples",
    metadata,
    Column("run_id", String(64), nullable=False),
    Column("task", String(128), nullable=False),
    Column("sample_id", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("input", Text, nullable=False),
    Column("target", Text, nullable=False),
    Column("choices", JSON, nullable=False),
    Column("metadata", JSON, nullable=False),
    PrimaryKeyConstraint("run_id", "task", "sample_id"),
)

requests = Table(
    "requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("task", String(128), nullable=False),
    Column("sample_id", String(64), nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("cache_key", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("text", Text, nullable=False),
    Column("finish_reason", String(32)),
    Column("logprobs", JSON),
    # [{"id", "name", "arguments"}] when the model called tools through the API (added in 0.x:
    # older stores get it by `add_missing_columns`).
    Column("tool_calls", JSON),
    Column("error_class", String(32)),
    Column("error_detail", Text),
    Column("http_status", Integer),
    Column("attempts", Integer, nullable=False),
    # Failures of earlier attempts that a retry recovered from, by class.
    Column("attempt_errors", JSON, nullable=False),
    Column("queue_s", Float, nullable=False),
    Column("ttft_s", Float),
    Column("e2e_s", Float, nullable=False),
    Column("token_times_s", JSON, nullable=False),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("usage_source", String(16), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    # Which of the run's targets answered: "target" (under test), "judge", "attacker",
    # "attacker_judge". NULL in stores written before roles were kept: read_run derives it.
    Column("role", String(32)),
    Index("ix_requests_run_key", "run_id", "cache_key"),
)

scores = Table(
    "scores",
    metadata,
    Column("run_id", String(64), nullable=False),
    Column("task", String(128), nullable=False),
    Column("sample_id", String(64), nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("value", Float),
    Column("answer", Text),
    Column("outcome", String(16), nullable=False),
    Column("error_class", String(32)),
    Column("explanation", Text, nullable=False),
    Column("method", String(32), nullable=False),
    Column("output", Text, nullable=False),
    # Whose score it is: "target" for the answers under test, "judge" for the judge's grades
    # of human-labelled answers (its agreement), ... NULL in older stores (see requests.role).
    Column("role", String(32)),
    # Typed facts of the score (a code score's sandbox `isolation`...), as the scorer gave them.
    Column("detail", JSON),
    PrimaryKeyConstraint("run_id", "task", "sample_id", "epoch"),
)

metrics = Table(
    "metrics",
    metadata,
    Column("run_id", String(64), nullable=False),
    Column("task", String(128), nullable=False),
    Column("metric", String(64), nullable=False),
    Column("value", Float),
    Column("ci_low", Float),
    Column("ci_high", Float),
    Column("n", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    # The rest of the task's result (truncated, error classes, pass@k, judge agreement...).
    Column("detail", JSON),
    PrimaryKeyConstraint("run_id", "task", "metric"),
)

perf_samples = Table(
    "perf_samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("step", String(64), nullable=False),
    Column("request_id", Integer),
    Column("scheduled_s", Float),
    Column("started_s", Float),
    Column("data", JSON, nullable=False),
    Index("ix_perf_run", "run_id"),
)
