"""Stage 1, reading: files, records and stdin become validated `ArticleInput`s (text, metadata, hash)."""
