"""Idempotency answers: what a request sent with an `Idempotency-Key` was answered, kept per owner.

A retried request finds its stored answer instead of doing the work twice; a key is taken while
its request is in progress, so a concurrent retry waits for (or is told of) the first, and a key
left in progress by a process that died is taken over.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from .rows import IdempotencyRow, row_dict
from .schema import idempotency_keys


class AnswersMixin:
    """The idempotency keys' table, as `Database` methods."""

    _read: Callable[[], Any]
    _write: Callable[[], Any]

    def _idempotency(self, connection: Connection, owner: str, key: str) -> IdempotencyRow | None:
        found = connection.execute(
            select(idempotency_keys).where(idempotency_keys.c.owner == owner, idempotency_keys.c.key == key)
        ).first()
        if found is None:
            return None
        values = row_dict(found)
        values["headers"] = json.loads(values["headers"] or "{}")
        return IdempotencyRow(**values)

    def answer(self, owner: str, key: str) -> IdempotencyRow | None:
        with self._read() as connection:
            return self._idempotency(connection, owner, key)

    def begin_answer(self, answer: IdempotencyRow, now: float, *, stale_before: float) -> IdempotencyRow | None:
        """Take an idempotency key for a request in progress; the row found when it is taken.

        A key left in progress before `stale_before` (its process died) is taken over.
        """
        try:
            with self._write() as connection:
                if found := self._idempotency(connection, answer.owner, answer.key):
                    if found.state != "in_progress" or found.created_at >= stale_before:
                        return found
                    connection.execute(
                        idempotency_keys.delete().where(
                            idempotency_keys.c.owner == answer.owner, idempotency_keys.c.key == answer.key
                        )
                    )
                connection.execute(idempotency_keys.insert().values(**_answer_row(answer, now)))
        except IntegrityError:
            with self._read() as connection:
                return self._idempotency(connection, answer.owner, answer.key)
        return None

    def finish_answer(self, answer: IdempotencyRow) -> None:
        with self._write() as connection:
            connection.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.owner == answer.owner, idempotency_keys.c.key == answer.key)
                .values(
                    state="done", status_code=answer.status_code, headers=json.dumps(answer.headers), body=answer.body,
                    job_id=answer.job_id,
                )
            )  # fmt: skip

    def forget_answer(self, owner: str, key: str) -> None:
        with self._write() as connection:
            connection.execute(
                idempotency_keys.delete().where(idempotency_keys.c.owner == owner, idempotency_keys.c.key == key)
            )

    def forget_answers_before(self, before: float) -> int:
        with self._write() as connection:
            result = connection.execute(idempotency_keys.delete().where(idempotency_keys.c.created_at < before))
            return int(result.rowcount)


def _answer_row(answer: IdempotencyRow, now: float) -> dict[str, Any]:
    return {
        "owner": answer.owner, "key": answer.key, "fingerprint": answer.fingerprint, "state": answer.state,
        "status_code": answer.status_code, "headers": json.dumps(answer.headers), "body": answer.body,
        "job_id": answer.job_id, "created_at": now,
    }  # fmt: skip
