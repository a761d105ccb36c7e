"""The service database's tables, as SQLAlchemy Core: one schema for SQLite and PostgreSQL.

Types are the portable ones (String, Text, Integer, BigInteger, Float, Boolean); times are
Unix seconds as floats. Counters a request reads often (a job's counts and usage) are kept on
the job row and updated in the transaction that changes them, so status, lists and metrics
are one indexed row read, never a count over articles.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(64), nullable=False),  # the key id of the caller that created it, never a key
    Column("status", String(32), nullable=False),
    Column("grounding", String(16)),
    # Articles the rules find nothing in are skipped, never sent (schema version 2).
    Column("triage", Boolean, nullable=False, default=False, server_default=false()),
    Column("total", Integer, nullable=False, default=0),
    Column("done", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    Column("expired", Integer, nullable=False, default=0),  # failed articles whose cause is `expired`
    Column("skipped", Integer, nullable=False, default=0, server_default="0"),  # left out by triage
    # Bumped for every article that ends: the cursor `results?follow=true` reads after.
    Column("outcome_seq", BigInteger, nullable=False, default=0),
    Column("calls", BigInteger, nullable=False, default=0),  # live model calls, each counted as it ended
    Column("prompt_tokens", BigInteger, nullable=False, default=0),
    Column("completion_tokens", BigInteger, nullable=False, default=0),
    Column("total_tokens", BigInteger, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("deadline_at", Float, nullable=False),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("idempotency_key", String(255)),
    Column("error", Text),  # why the job is broken or stopped sending, one line
)
Index("jobs_by_owner", jobs.c.owner, jobs.c.created_at, jobs.c.id)
Index("jobs_by_created", jobs.c.created_at, jobs.c.id)
Index("jobs_by_status", jobs.c.status, jobs.c.finished_at)

# One row per article of a job: the queue (status, claim, tries, next attempt) and the outcome.
articles = Table(
    "articles",
    metadata,
    Column("job_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),  # input order, from 0
    Column("key", String(512), nullable=False),  # the article's id in the job
    Column("owner", String(64), nullable=False),  # the job's owner: identical texts are reused within one owner
    Column("record", Text, nullable=False),  # the input line as stored, JSON
    Column("sha256", String(64)),
    Column("reuse_key", String(128)),
    # pending | running | done | failed | skipped | cancelled
    Column("status", String(16), nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("deadline_at", Float, nullable=False),  # the job's, here so a claim needs no join
    Column("claimed_by", String(64)),
    Column("claim_expires", Float),
    Column("tries", Integer, nullable=False, default=0),  # times the article went back to the queue after an outage
    Column("outcome_seq", BigInteger),  # the job's outcome counter when the article ended
    Column("origin", String(16)),
    Column("reused_from", String(512)),
    Column("result", Text),
    Column("error_class", String(128)),
    Column("cause", String(64)),
    Column("http_status", Integer),
    Column("message", Text),
    Column("attempts", Integer, nullable=False, default=0),  # model calls of the last extraction
    Column("latency_ms", Float),
    Column("spent_calls", Integer, nullable=False, default=0),  # every live call ever made for it
    Column("spent_prompt_tokens", BigInteger, nullable=False, default=0),
    Column("spent_completion_tokens", BigInteger, nullable=False, default=0),
    Column("spent_total_tokens", BigInteger, nullable=False, default=0),
    Column("updated_at", Float, nullable=False),
    PrimaryKeyConstraint("job_id", "seq"),
    UniqueConstraint("job_id", "key", name="articles_job_key"),
)
Index("articles_claimable", articles.c.status, articles.c.next_attempt_at)
Index("articles_claims", articles.c.status, articles.c.claim_expires)
Index("articles_by_outcome", articles.c.job_id, articles.c.outcome_seq)
Index("articles_by_content", articles.c.owner, articles.c.sha256, articles.c.reuse_key, articles.c.status)

# `Idempotency-Key` answers, per caller: the same key and request give the same answer.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("owner", String(64), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # sha256 of method, path, query and body
    Column("state", String(16), nullable=False),  # in_progress | done
    Column("status_code", Integer),
    Column("headers", Text),  # JSON object of the answer's headers worth replaying
    Column("body", Text),
    Column("job_id", String(64)),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("owner", "key"),
)
Index("idempotency_by_created", idempotency_keys.c.created_at)

# Model calls and tokens per caller, per UTC day and source (request | job).
usage = Table(
    "usage",
    metadata,
    Column("owner", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("source", String(16), nullable=False),
    Column("requests", BigInteger, nullable=False, default=0),
    Column("calls", BigInteger, nullable=False, default=0),
    Column("prompt_tokens", BigInteger, nullable=False, default=0),
    Column("completion_tokens", BigInteger, nullable=False, default=0),
    Column("total_tokens", BigInteger, nullable=False, default=0),
    PrimaryKeyConstraint("owner", "day", "source"),
)

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("applied_at", Float, nullable=False),
)
