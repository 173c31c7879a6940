"""Writing a file all or nothing (private; standard library only).

Used by the Solver's checkpoints, the grader's JSON results, the autograder zip and
the student's submission zip, so a crash or Ctrl-C never leaves a partial file
under the final name.
"""
from __future__ import annotations

import os
import uuid


def atomic_write(path, write):
    """Write a file through ``write(fileobj)`` so that ``path`` is all or nothing.

    The bytes go to a temporary file in the same directory (same filesystem), are
    flushed to disk, and only then renamed over ``path`` with ``os.replace``
    (atomic on POSIX and Windows). On any error the temporary file is removed and
    ``path`` keeps its previous content.
    """
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise
