"""Where tests find the project and its data: everything lives inside the repository."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
"""The seed article (synonym-spun text)."""
CORPUS = ROOT / "corpus"
"""Voice of America articles (`voa-<id>.txt`) and `voa_stories.jsonl`."""
GOLD = ROOT / "gold"
"""Hand-annotated extractions; their articles are in SEEDS or CORPUS."""
FIXTURES = ROOT / "fixtures"
"""Reference (authored) replay fixtures."""
CONTRACT_PAGE = ROOT / "docs" / "contract.md"
"""The contract's reference page, checked against the models."""
