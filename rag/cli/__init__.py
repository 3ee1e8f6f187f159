"""The ``rag`` command: the Typer app (app.py) and one module per command group."""

from rag.lazy import lazy_exports

_EXPORTS = {
    "app": "rag.cli.app",
    "main": "rag.cli.app",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
