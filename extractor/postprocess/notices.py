"""Notices: what the pipeline did to a model's answer, as data (`meta.notices`) and in words
(`meta.warnings`, each notice's `detail`, in the same order).

Readers (evaluation, review) count and filter notices by `code`. Results written before
notices existed carry only the words: `notices_of` reads those back into notices once, here,
so no reader parses warning text itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from ..schemas import ExtractionMeta, Notice, NoticeCode


def noted(meta: ExtractionMeta, notices: Iterable[Notice]) -> ExtractionMeta:
    """`meta` with `notices` added, and their details added to its warnings."""
    added = list(notices)
    if not added:
        return meta
    return meta.model_copy(
        update={
            "notices": [*meta.notices, *added],
            "warnings": [*meta.warnings, *(notice.detail for notice in added)],
        }
    )


# How the first results worded each notice (their `warnings` only).
_LEGACY_WORDING = (
    (re.compile(r"^dropped (exercise|aircraft|statement) .*: evidence not found"), NoticeCode.DROPPED_UNGROUNDED),
    (re.compile(r"^statement quote of .* not found, "), NoticeCode.QUOTE_NOT_FOUND),
    (re.compile(r"^removed aircraft .*: not an aircraft"), NoticeCode.NOT_AIRCRAFT),
    (re.compile(r"^article split into \d+ parts"), NoticeCode.ARTICLE_SPLIT),
)


def notices_of(meta: dict[str, Any] | None) -> list[Notice]:
    """The notices of a result's `meta` (a dict read from a file); older results' warnings read as notices."""
    if not meta:
        return []
    if "notices" in meta:
        notices = []
        for raw in meta.get("notices") or []:
            try:
                notices.append(Notice.model_validate(raw))
            except ValidationError:
                continue  # a code this version does not know: not one a reader acts on
        return notices
    return [notice for warning in meta.get("warnings") or [] if (notice := _legacy(warning)) is not None]


def _legacy(warning: Any) -> Notice | None:
    if not isinstance(warning, str):
        return None
    for wording, code in _LEGACY_WORDING:
        if wording.match(warning):
            return Notice(code=code, detail=warning)
    return None


def with_code(meta: dict[str, Any] | None, code: NoticeCode) -> list[Notice]:
    """The notices of `meta` with this code."""
    return [notice for notice in notices_of(meta) if notice.code is code]
