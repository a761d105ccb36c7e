"""Prompt templates, shipped as data files beside this module."""
