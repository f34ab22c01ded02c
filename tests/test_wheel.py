"""A built wheel (not the editable checkout) installs and runs `dataforge lint`, with its schemas."""

import os
import subprocess
import sys
import sysconfig
import zipfile

import pytest

from tests.conftest import REPO, SAMPLES


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
                   check=True, capture_output=True)
    (path,) = out.glob("dataforge_sft-*.whl")
    return path


def test_wheel_keeps_schemas_and_trainer_inside_the_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "dataforge/schemas/chatglm3.schema.json" in names
    assert "dataforge/trainer/__init__.py" in names and "dataforge/trainer/run.py" in names
    # the shipped DeepSpeed configs that `deepspeed: zero3` names
    assert {f"dataforge/trainer/deepspeed/zero{n}.json" for n in range(4)} <= set(names)
    # the real trainer, not the checkout's stand-in that points at trainer/
    assert b"The bundled trainer" in zipfile.ZipFile(wheel).read("dataforge/trainer/__init__.py")
    assert not [n for n in names if n.split("/")[0] in ("schemas", "trainer", "tests")]
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "dataforge = dataforge.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_wheel_carries_the_compiled_speedups_and_not_the_checkouts_build(wheel):
    if not sysconfig.get_config_var("LDSHARED") or os.environ.get("DATAFORGE_PURE_PYTHON"):
        pytest.skip("no C compiler configured for this Python, or pure Python asked for")
    names = zipfile.ZipFile(wheel).namelist()
    assert names.count(f"dataforge/_speedups{sysconfig.get_config_var('EXT_SUFFIX')}") == 1
    assert "py3-none-any" not in wheel.name  # a compiled wheel is tagged for this Python and platform


def test_installed_wheel_runs_lint(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                    "--target", str(target), str(wheel)], check=True)
    # Only the wheel's copy of dataforge is importable: the checkout is not on the path.
    env = {**os.environ, "PYTHONPATH": str(target), "PYTHONSAFEPATH": "1"}
    code = ("import dataforge, sys; from dataforge.cli import main; "
            f"assert dataforge.__file__.startswith({str(target)!r}), dataforge.__file__; "
            "from dataforge.speedups import compiled; "
            f"assert compiled is None or compiled.__file__.startswith({str(target)!r}), compiled; "
            "sys.exit(main(sys.argv[1:]))")
    run = subprocess.run([sys.executable, "-c", code, "lint", str(SAMPLES / "datasets")],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "0 errors, 1 warning in 24 records (11 files)" in run.stdout  # the pre-training sample's S007
    schema = subprocess.run([sys.executable, "-c", code, "schema", "alpaca"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert schema.returncode == 0 and '"title": "Alpaca instruction record"' in schema.stdout
