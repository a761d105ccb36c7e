"""The reuse key of a batch job: everything that shapes a stored result, not only the model call.

`Extractor.fingerprint` covers what the model is asked (prompt, schema, model, decoding). A
result is also shaped after the call: grounding mode and fuzzy threshold, the gazetteer's
data and the grounding/normalization code. A stored result is reused (on resume, or for an
identical text) only when all of these are the same, so `--grounding off` after a `strict`
run, an edited gazetteer or an upgraded normalizer re-extract instead of returning stale
results.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from typing import Any

# The modules that turn a model's draft into the published result. Their source is hashed
# rather than trusting a hand-bumped version: a fix there must not be hidden by old results.
POSTPROCESSING_MODULES = (
    "postprocess/grounding.py",
    "postprocess/normalize.py",
    "postprocess/merge.py",
    "postprocess/dates.py",
    "postprocess/gazetteer.py",
    "postprocess/notices.py",
    "postprocess/people.py",
    "postprocess/keys.py",
)
GAZETTEER_DATA = "postprocess/data/gazetteer.json"


@lru_cache(maxsize=1)
def postprocessing_code_version() -> str:
    """A hash of the gazetteer data and of the grounding/normalization code that ships with it."""
    digest = hashlib.sha256()
    package = resources.files("extractor")
    for name in (*POSTPROCESSING_MODULES, GAZETTEER_DATA):
        digest.update(name.encode("utf-8") + b"\0" + package.joinpath(name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def postprocessing(settings: Any) -> dict[str, Any]:
    """What shapes a result after the model call, as data (for the key and for error messages)."""
    from ..postprocess.gazetteer import load_gazetteer

    return {
        "grounding": settings.grounding,
        "fuzzy_threshold": settings.fuzzy_threshold,
        "gazetteer_version": load_gazetteer().version,
        "code": postprocessing_code_version(),
    }


def reuse_key(extractor: Any) -> str:
    """The job store's fingerprint column: the model call's fingerprint plus post-processing."""
    payload = {
        "model_call": extractor.fingerprint,
        "postprocessing": postprocessing(extractor.settings),
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
