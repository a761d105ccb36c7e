"""The hybrid (the bundled model deciding closed choices about the rules' candidates) against the rules.

    .venv/bin/python bench/bench_hybrid.py    # minutes: one model call per gold article

Scores both on gold/ with run_eval (what `extractor eval` runs) and prints the model's raw
decisions, so that what it chose (and how uniformly) can be read.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor import Extractor  # noqa: E402
from extractor.evaluation import run_eval  # noqa: E402
from extractor.local import hybrid  # noqa: E402

decisions: list[dict] = []
_decide = hybrid.decide


def _logged(*args, **kwargs):
    decided = _decide(*args, **kwargs)
    decisions.append(decided)
    return decided


hybrid.decide = _logged


def main() -> None:
    figures = {}
    for name, factory in (
        ("rules", lambda: Extractor(provider="rules")),
        ("hybrid", lambda: Extractor(provider="local", local_hybrid=True)),
    ):
        started = time.process_time()
        report, _ = run_eval(ROOT / "gold", extractor_factory=factory)
        figures[name] = {"total": report["total"], "cpu_s": time.process_time() - started}
    for name, figure in figures.items():
        types = figure["total"]["types"]
        row = " · ".join(f"{k} P {v['precision']:.3f} R {v['recall']:.3f} F1 {v['f1']:.3f}" for k, v in types.items())
        stance = figure["total"]["fields"].get("statement.stance", {}).get("accuracy")
        print(f"{name}: {row} · stance accuracy {stance:.3f} · CPU {figure['cpu_s']:.1f} s")
    choices = [c for d in decisions for c in d.values()]
    print("decisions:", len(choices), "keep:", Counter(c["keep"] for c in choices))
    for field in ("stance", "kind", "status"):
        print(field, Counter(c[field] for c in choices if field in c))
    print(json.dumps(decisions))


if __name__ == "__main__":
    main()
