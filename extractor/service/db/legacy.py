"""Moving state directories of earlier versions into the database: one folder per job.

An earlier service kept each job in `<state>/jobs/<id>/`: `job.json` (times, cancelled,
grounding), `articles.jsonl` (its input) and `store.sqlite` (a batch job store). At start-up
each such folder becomes a job of the database, with its articles' outcomes (done, failed,
or still to do); the folder then moves to `<state>/imported/<id>/`, so nothing is deleted
and a second start does not import it twice. A folder that cannot be read becomes a job
marked broken (status `failed`, `error` saying why) and stays where it is: once repaired, the
next start imports it in place of the broken one. Imported jobs belong to no key: admin keys
(and a server without keys) see them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...jobs.store import open_reader
from .repository import Database
from .rows import NewJob

LEGACY_OWNER = "legacy"
logger = logging.getLogger("extractor.service")


@dataclass
class Imported:
    jobs: int = 0
    broken: int = 0


def _time(value: Any, default: float) -> float:
    try:
        return dt.datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return default


def _read_meta(folder: Path) -> dict[str, Any]:
    path = folder / "job.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("job.json is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"job.json cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("created_at"), str):
        raise InputError("job.json is not a job record")
    return meta


def _store_rows(folder: Path) -> dict[str, Any]:
    path = folder / "store.sqlite"
    if not path.exists():
        return {}
    try:
        reader = open_reader(path)
        try:
            return {row.key: row for row in reader.rows()}
        finally:
            reader.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"store.sqlite cannot be read ({exc})") from None


def import_folder(db: Database, folder: Path, *, deadline: float, max_bytes: int, now: float) -> bool:
    """Import one job folder; False when it is broken (then recorded as such)."""
    from ..intake import new_articles, read_stored  # intake stores db rows: imported once db is

    job_id = folder.name
    try:
        meta = _read_meta(folder)
        lines = read_stored(folder / "articles.jsonl")
        articles = new_articles(lines, max_bytes)
        rows = _store_rows(folder)
    except (InputError, OSError, UnicodeDecodeError, ValueError) as exc:
        reason = f"broken: {exc}" if isinstance(exc, InputError) else f"broken: {type(exc).__name__}: {exc}"
        db.replace_job(NewJob(job_id, LEGACY_OWNER, None, now, now, [], status="failed", error=reason), {})
        logger.warning("job %s is broken: %s", job_id, reason)
        return False
    created = _time(meta["created_at"], now)
    finished = bool(meta.get("finished_at"))
    grounding = meta.get("grounding") if meta.get("grounding") in ("strict", "flag", "off") else None
    job = NewJob(
        job_id, LEGACY_OWNER, grounding, created, max(now, created) + deadline, articles,
        status="cancelled" if meta.get("cancelled") else None, error=meta.get("error"),
    )  # fmt: skip
    ended = {key: row for key, row in rows.items() if row.status in ("done", "failed")}
    db.replace_job(job, ended, finished_at=_time(meta.get("finished_at"), now) if finished else None)
    return True


def import_state(db: Database, state_dir: Path, *, deadline: float, max_bytes: int, now: float) -> Imported:
    """Every job folder of an earlier version's state directory, into the database."""
    root = state_dir / "jobs"
    done = Imported()
    if not root.is_dir():
        return done
    known = db.job_ids()
    broken = db.broken_job_ids()
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        if folder.name in known and folder.name not in broken:
            _move(folder, state_dir)  # imported by a start that died before moving it
            continue
        if import_folder(db, folder, deadline=deadline, max_bytes=max_bytes, now=now):
            _move(folder, state_dir)
            done.jobs += 1
        else:
            done.broken += 1
    return done


def _move(folder: Path, state_dir: Path) -> None:
    target = state_dir / "imported" / folder.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target)
    folder.rename(target)
