"""The compiled fast paths (dataforge/_speedups.c), when the install built them.

``compiled`` is the extension module, or None when dataforge runs on its pure-Python code only:
no C compiler at install time, DATAFORGE_PURE_PYTHON=1 set (at install or at run time), or a
build older than the C source next to it (an editable install not re-run after an edit).
Callers pick the compiled function or its Python twin once, at import time.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from types import ModuleType

SOURCE = Path(__file__).with_name("_speedups.c")  # present in a checkout, not in a wheel


def _load(source: Path = SOURCE) -> ModuleType | None:
    if os.environ.get("DATAFORGE_PURE_PYTHON"):
        return None
    try:
        from dataforge import _speedups
    except ImportError:
        return None
    if source.exists() and hashlib.sha256(source.read_bytes()).hexdigest()[:16] != _speedups.SOURCE_DIGEST:
        warnings.warn("dataforge's compiled speedups are older than _speedups.c and are not used; "
                      "run `pip install -e .` again", RuntimeWarning, stacklevel=2)
        return None
    return _speedups


compiled: ModuleType | None = _load()
