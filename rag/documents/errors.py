"""The one error type of document loading: which file, what is wrong, what to do."""

from __future__ import annotations

import os


class DocumentError(Exception):
    """A file that cannot be ingested: which file, what is wrong, what to do."""

    def __init__(self, path: str | os.PathLike[str], problem: str, hint: str) -> None:
        self.path = str(path)
        self.problem = problem
        self.hint = hint
        super().__init__(f"{self.path}: {problem} — {hint}")

    def __reduce__(self):  # keep it picklable across worker processes
        return (type(self), (self.path, self.problem, self.hint))
