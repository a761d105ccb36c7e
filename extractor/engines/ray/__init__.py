"""The Ray Data engine: an actor pool over a Dataset (`extractor batch --engine ray`, `extractor.ray`)."""
