"""Prompt templates (data): installed as `extractor.prompts`, rendered by `extractor.prompting`."""
