"""The core stays free of the UI and training stacks: importing it must not pull them in."""

import subprocess
import sys

import pytest

CORE = ["dataforge.model", "dataforge.formats", "dataforge.jsonio.stream", "dataforge.lint.engine",
        "dataforge.lint.reporters", "dataforge.lint.fix", "dataforge.convert", "dataforge.schemas", "dataforge.cli",
        "dataforge.templates.render", "dataforge.masking.encode", "dataforge.masking.session",
        "dataforge.docx_source.chunker", "dataforge.generate.job", "dataforge.review.session",
        "dataforge.review.export"]
HEAVY = ["textual", "torch", "deepspeed", "transformers"]


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_without_ui_or_torch(module):
    code = (f"import sys, {module}\n"
            f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
