"""Writing and reading results: atomic output files, the JSONL writer, exports, result readers."""
