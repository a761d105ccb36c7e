"""The package version, importable without importing the pipeline (fast `--version`)."""

__version__ = "0.1.0"
