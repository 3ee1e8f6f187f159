"""Grounded drafting and summarization for Chinese work reports (述职报告)."""

from rag.settings import apply_offline_env

apply_offline_env()

__all__ = ["apply_offline_env"]
