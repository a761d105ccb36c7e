"""Model answers (ExtractionDraft JSON) for the seed article, shared by tests."""

from tests.support.paths import SEEDS

SEED_TEXT = (SEEDS / "000_dc08afd2001463f6.txt").read_text(encoding="utf-8")

VALID = {
    "exercises": [],
    "aircraft": [
        {
            "designation": "B-52",
            "mention": "B-52s",
            "operator": {"name": "U.S. Air Drive", "country": "USA", "kind": "military"},
            "role": "bomber",
            "evidence": [{"quote": "U.S. Air Drive B-52s deployed to Andersen AFB, Guam"}],
        }
    ],
    "statements": [],
}
"""One grounded aircraft: what a valid answer about the seed looks like."""

INVALID = {"exercises": [{"description": "a drill", "kind": "underwater", "status": "conducted", "evidence": []}]}
"""Fails validation twice over: an unknown exercise kind and no evidence."""
