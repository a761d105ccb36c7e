"""Remember which response models instructor has already checked for async validators.

instructor calls `reject_async_validators(response_model)` on every `create`: it walks the
model's whole class tree (every base's attributes, every field annotation) to refuse models
with instructor's async validators, about 6 ms of CPU an article for our draft model. The
answer depends only on the class, so a class that passed once passes again: we remember it
(weakly, so dynamically built models can still be collected). A model that fails is never
remembered and fails every time, as before; non-class response models (unions, generics)
are always walked.

instructor has no supported switch for this, so we replace the function where instructor
looks it up. `tests/test_instructor_patch.py` fails loudly if instructor's internals move.
"""

from __future__ import annotations

import weakref
from typing import Any

from instructor.v2.core import patch as _instructor_patch
from instructor.v2.validation import async_validators as _async_validators

# The call sites: instructor's patched `create` binds the name at import; its v2 client and
# cache import it from the validators module at call time.
_CALL_SITES = (_instructor_patch, _async_validators)

_walk = _async_validators.reject_async_validators  # instructor's own check
_passed: weakref.WeakSet[type] = weakref.WeakSet()


def cached_reject_async_validators(response_model: Any) -> None:
    """instructor's check, done once per response model class that passes it."""
    if not isinstance(response_model, type):
        _walk(response_model)
        return
    if response_model in _passed:
        return
    _walk(response_model)  # raises ValueError for a model with async validators: not remembered
    _passed.add(response_model)


def apply() -> None:
    """Install the cached check in instructor (idempotent)."""
    for module in _CALL_SITES:
        if getattr(module, "reject_async_validators", None) is _walk:
            module.reject_async_validators = cached_reject_async_validators
