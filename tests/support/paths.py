"""Where the project and its read-only companion folder `shared/` (beside the checkout) are."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
SEEDS = ROOT / "seeds"
GOLD = SHARED / "gold"
CORPUS = SHARED / "corpus"
