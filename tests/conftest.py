"""Shared test setup. The extractor_fixtures plugin (pyproject entry point), enabled by
`extractor_fixtures = "replay"` in pyproject's pytest options, puts every test in replay mode
with the network shut; pytester lets plugin tests run pytest."""

pytest_plugins = ["pytester"]
