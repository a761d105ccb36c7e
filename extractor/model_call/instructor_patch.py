"""Remember which response models instructor has already checked for async validators.

instructor calls `reject_async_validators(response_model)` on every `create`: it walks the
model's whole class tree (every base's attributes, every field annotation) to refuse models
with instructor's async validators, a walk whose cost grows with the model (what it costs
for the draft model is in bench/README.md). The answer depends only on the class, so a class that passed once passes again: we remember it
(weakly, so dynamically built models can still be collected). A model that fails is never
remembered and fails every time, as before; non-class response models (unions, generics)
are always walked.

instructor has no supported switch for this, so we replace the function where instructor
looks it up. Those places are private: they are looked up when the patch is applied, and if
they have moved, instructor runs unpatched (its own check on every call) and
`InternalsFallbackWarning` says so once. `tests/test_instructor_patch.py` fails loudly if
instructor's internals move.
"""

from __future__ import annotations

import importlib
import threading
import weakref
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .fallback import fall_back

# The call sites: instructor's patched `create` binds the name at import; its v2 client and
# cache import it from the validators module at call time.
_CALL_SITE_MODULES = ("instructor.v2.core.patch", "instructor.v2.validation.async_validators")
_NAME = "reject_async_validators"
SPEEDUP = "the cached async-validator check"

_walk: Callable[[Any], None] | None = None  # instructor's own check, found by `apply`
_passed: weakref.WeakSet[type] = weakref.WeakSet()
_lock = threading.Lock()


def cached_reject_async_validators(response_model: Any) -> None:
    """instructor's check, done once per response model class that passes it."""
    assert _walk is not None  # installed only by `apply`, once it has found instructor's check
    if not isinstance(response_model, type):
        _walk(response_model)
        return
    if response_model in _passed:
        return
    _walk(response_model)  # raises ValueError for a model with async validators: not remembered
    _passed.add(response_model)


def _call_sites() -> tuple[ModuleType, ...] | None:
    """instructor's modules that look the check up, when each still has it; else None (and a warning)."""
    try:
        modules = tuple(importlib.import_module(name) for name in _CALL_SITE_MODULES)
    except ImportError as exc:
        fall_back(SPEEDUP, exc.name or "an instructor module")
        return None
    for module in modules:
        if not callable(getattr(module, _NAME, None)):
            fall_back(SPEEDUP, f"{module.__name__}.{_NAME}")
            return None
    return modules


def apply() -> None:
    """Install the cached check in instructor (idempotent); without instructor's names, leave it as is."""
    global _walk
    sites = _call_sites()
    if sites is None:
        return
    with _lock:
        if _walk is None:
            found = getattr(sites[-1], _NAME)  # the validators module defines the check
            if found is cached_reject_async_validators:
                return  # patched by an earlier copy of this module (a reload): nothing to find
            _walk = found
        for module in sites:
            if getattr(module, _NAME) is _walk:
                setattr(module, _NAME, cached_reject_async_validators)
