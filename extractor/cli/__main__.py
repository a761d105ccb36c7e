"""`python -m extractor.cli` runs the command line."""

from .app import main

main()
