"""The core stays free of the UI and training stacks: importing it must not pull them in."""

import subprocess
import sys

import pytest

CORE = ["dataforge.model", "dataforge.formats", "dataforge.jsonio.stream", "dataforge.lint.engine",
        "dataforge.lint.reporters", "dataforge.lint.fix", "dataforge.convert", "dataforge.schemas", "dataforge.cli",
        "dataforge.templates.render", "dataforge.masking.encode", "dataforge.masking.session",
        "dataforge.docx_source.chunker", "dataforge.generate.job", "dataforge.review.session",
        "dataforge.review.export", "dataforge.collect", "dataforge.dedup", "dataforge.split", "dataforge.mix",
        "dataforge.export", "dataforge.stats", "dataforge.stats.terminal", "dataforge.cli_handoff"]
HEAVY = ["textual", "torch", "deepspeed", "transformers"]


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_without_ui_or_torch(module):
    code = (f"import sys, {module}\n"
            f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


# The layers, lowest first, and what each may import from dataforge. A layer never imports one
# above it: masking does not know lint or convert, the review session does not know generate,
# and nothing below the app knows the UI. Imports inside functions count the same.
BASE = {"errors", "speedups", "settings", "model", "__init__"}
LAYERS = {
    "base": BASE,
    "jsonio": BASE | {"jsonio"},
    "schemas": BASE | {"schemas"},
    "formats": BASE | {"jsonio", "schemas", "formats"},
    "templates": BASE | {"formats", "templates"},
    "masking": BASE | {"jsonio", "formats", "templates", "masking"},
    "docx_source": BASE | {"masking", "docx_source"},  # chunks are measured in tokens
    "lint": BASE | {"jsonio", "schemas", "formats", "templates", "masking", "lint"},
    "convert": BASE | {"jsonio", "formats", "lint", "convert"},
    "preview_output": BASE | {"masking", "preview_output"},
    "generate": BASE | {"jsonio", "schemas", "formats", "templates", "masking", "lint", "docx_source", "generate"},
    # the hand-off: gathering linted samples, repeats, splits, mixing, exports, figures
    "collect": BASE | {"jsonio", "formats", "lint", "convert", "collect"},
    "dedup": BASE | {"jsonio", "formats", "lint", "convert", "dedup"},
    "split": BASE | {"dedup", "split"},
    "mix": BASE | {"jsonio", "formats", "lint", "collect", "mix"},
    "export": BASE | {"jsonio", "formats", "lint", "collect", "split", "export"},
    "stats": BASE | {"jsonio", "formats", "lint", "convert", "masking", "stats"},
    "review": BASE | {"jsonio", "formats", "templates", "masking", "lint", "convert", "collect", "export", "review"},
    "tui": None,  # the app may use every layer
    "cli": None,
    "cli_handoff": None,
    "cli_train": None,
    # the trainer (dataforge/trainer is the checkout's stand-in for trainer/) trains what masking encodes
    "trainer": BASE | {"jsonio", "formats", "templates", "masking", "lint", "convert", "collect", "dedup", "split",
                       "preview_output", "trainer"},
    "__main__": None,
}


def _layer(module: str) -> str:
    first = module.split(".")[0]
    return "base" if first in BASE else first


def _imports(path):
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dataforge.") and not node.level:
            yield node.module.removeprefix("dataforge."), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("dataforge."):
                    yield alias.name.removeprefix("dataforge."), node.lineno


def test_layers_import_only_what_lies_below_them():
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "dataforge"
    broken = []
    for path in sorted(package.rglob("*.py")):
        module = ".".join(path.relative_to(package).with_suffix("").parts)
        allowed = LAYERS[_layer(module)]
        if allowed is None:
            continue
        for imported, line in _imports(path):
            if imported.split(".")[0] not in allowed:
                broken.append(f"dataforge/{path.relative_to(package)}:{line} imports dataforge.{imported}")
    assert not broken, "\n".join(broken)


def test_the_ui_is_imported_by_the_app_alone():
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "dataforge"
    for path in package.rglob("*.py"):
        if "tui" in path.relative_to(package).parts[:-1]:  # the app and its panes
            continue
        text = path.read_text(encoding="utf-8")
        assert "import textual" not in text and "from textual" not in text, path
