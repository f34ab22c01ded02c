"""Build hook: compile dataforge/_speedups.c into the wheel, or next to it for an editable install.

The extension is optional. Without a C compiler (or with DATAFORGE_PURE_PYTHON=1 set at build
time) the wheel is pure Python and dataforge runs its Python twins of the same functions, only
slower. The compiled module records a digest of its source, so a checkout whose C file changed
after `pip install -e .` notices the stale build (dataforge/speedups.py) instead of using it.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("dataforge", "_speedups.c")


def source_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


class SpeedupsBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or os.environ.get("DATAFORGE_PURE_PYTHON"):
            return
        source = Path(self.root, SOURCE)
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        self._scratch = None
        if version == "editable":
            target = source.with_name("_speedups" + suffix)
        else:
            self._scratch = tempfile.mkdtemp(prefix="dataforge-build-")
            target = Path(self._scratch, "_speedups" + suffix)
        error = compile_extension(source, target)
        if error:
            self.app.display_warning(f"dataforge: C speedups not built ({error}); the pure-Python code will be used")
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(target)] = f"dataforge/_speedups{suffix}"

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        if getattr(self, "_scratch", None):
            shutil.rmtree(self._scratch, ignore_errors=True)


def compile_extension(source: Path, target: Path) -> str | None:
    """Compile ``source`` into the shared library ``target``; the reason when that fails."""
    link = sysconfig.get_config_var("LDSHARED")  # e.g. "gcc -pthread -shared" (None on Windows)
    if not link:
        return "no C compiler configured for this Python"
    command = [*shlex.split(link), *shlex.split(sysconfig.get_config_var("CCSHARED") or ""), "-O2",
               f"-DSOURCE_DIGEST=\"{source_digest(source)}\"", "-I", sysconfig.get_paths()["include"],
               str(source), "-o", str(target)]
    try:
        done = subprocess.run(command, capture_output=True, text=True)
    except OSError as exc:
        return f"{command[0]}: {exc.strerror}"
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["compiler failed"])[-1]
    return None
