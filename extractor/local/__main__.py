"""`python -m extractor.local --smoke`: prove the native llama.cpp build runs here."""

import sys

from .model import smoke_test

if sys.argv[1:] == ["--smoke"]:
    smoke_test()
else:
    print("usage: python -m extractor.local --smoke", file=sys.stderr)
    raise SystemExit(2)
