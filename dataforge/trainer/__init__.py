"""A checkout's stand-in for the trainer package.

The trainer's code lives in trainer/ at the top of the repository; the wheel carries it inside
the package as dataforge/trainer (this file is left out of the wheel). Here, in a checkout, this
stand-in points the package at trainer/, so `import dataforge.trainer` works the same in both.
"""

from pathlib import Path

_REAL = Path(__file__).resolve().parents[2] / "trainer"
__path__ = [str(_REAL)]
exec(compile((_REAL / "__init__.py").read_text(encoding="utf-8"), str(_REAL / "__init__.py"), "exec"))
