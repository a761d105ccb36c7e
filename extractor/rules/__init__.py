"""The `rules` provider: a deterministic extractor with no model.

Aircraft from designation patterns and a type table, exercises from exercise, drill,
joint-flight, patrol and escort phrases, statements from attributions and quotations; names
through the gazetteer, every item with evidence offsets into the article. Its items go
through the same grounding, normalization and validation as a model's (`pipeline.py`).
One module per item type (`aircraft`, `exercises`, `statements`), shared reading in
`text`, `actors`, `speakers`, `context`; `triage` decides whether an article has anything
for a model to find.
"""

from .version import MODEL_NAME, RULES_VERSION, rules_fingerprint

__all__ = ["MODEL_NAME", "RULES_VERSION", "rules_fingerprint"]
