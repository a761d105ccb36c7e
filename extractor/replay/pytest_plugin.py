"""pytest plugin: replay fixtures by default (placeholder)."""
