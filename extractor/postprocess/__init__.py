"""Stages 5 and 6, after the model: grounding (evidence offsets), normalization (gazetteer, ISO
codes, designations, dates) and merging."""
