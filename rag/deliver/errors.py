"""The one error of writing a deliverable: an output the user asked for that cannot be written."""

from __future__ import annotations


class ExportError(ValueError):
    """Bad output path or format, or a missing writer; the message says what to do."""


__all__ = ["ExportError"]
