"""Scoring extractions against hand-annotated gold files."""

from .run import EvalReport, run_eval
from .score import ArticleScore, score_article

__all__ = ["ArticleScore", "EvalReport", "run_eval", "score_article"]
