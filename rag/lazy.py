"""Lazy public names for package ``__init__`` files (PEP 562).

A package names its public parts in one table, and each is imported only when first
used: ``import rag.llm`` stays cheap (no ``llama_cpp``, ``openai`` or ``chromadb``), and a
package's ``__init__`` can never be the link that closes an import cycle. Inside the
project, import a sibling by its module path (``from rag.llm.base import LLM``); the
tables are for users of the library.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list]]:
    """``(__getattr__, __dir__)`` for a package whose public ``name`` lives in ``exports[name]``."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list:
        return sorted(exports)

    return __getattr__, __dir__
