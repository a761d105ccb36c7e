"""The service database: schema, migrations, the repository and its write-behind thread.

Everything the service stores goes through `Database` (typed methods, SQLAlchemy Core), so
that another backend is another URL, not another code path.
"""

from __future__ import annotations

from .legacy import LEGACY_OWNER, import_state
from .migrations import LATEST, SchemaTooNew
from .repository import Database
from .rows import (
    FINAL_STATUSES,
    JOB_STATUSES,
    ArticleRow,
    Claim,
    Finished,
    IdempotencyRow,
    JobRow,
    NewArticle,
    NewJob,
    Released,
    Spent,
)
from .writer import WriteBehind

__all__ = [
    "FINAL_STATUSES",
    "JOB_STATUSES",
    "LATEST",
    "LEGACY_OWNER",
    "ArticleRow",
    "Claim",
    "Database",
    "Finished",
    "IdempotencyRow",
    "JobRow",
    "NewArticle",
    "NewJob",
    "Released",
    "SchemaTooNew",
    "Spent",
    "WriteBehind",
    "import_state",
]
