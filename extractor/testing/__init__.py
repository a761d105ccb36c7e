"""Tooling for tests, ours and users': a fault-injecting server, a scripted OpenAI-compatible
server, the fake chat completions both answer with, and the opt-in pytest plugin. Nothing here
is imported by the extraction pipeline."""
