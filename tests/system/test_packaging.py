"""One import namespace, a light `%load_ext kenkyu`, and a working command line."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def python(code: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_design_card_folders_are_not_importable_at_top_level(tmp_path):
    for name in ("assistant", "tools", "kernels_md"):
        result = python(f"import {name}", tmp_path)
        assert result.returncode != 0 and "No module named" in result.stderr, name
    result = python("import kenkyu.assistant, kenkyu.tools, kenkyu.kernels_md; print('ok')", tmp_path)
    assert result.stdout.strip() == "ok", result.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next(out.glob("kenkyu-*.whl"))


def test_wheel_maps_everything_under_kenkyu(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.startswith("kenkyu-")}
    assert top == {"kenkyu"}, top
    for module in (
        "kenkyu/assistant/agent.py",
        "kenkyu/core/providers/openai_chat.py",
        "kenkyu/core/registry.py",
        "kenkyu/tools/__init__.py",
        "kenkyu/tools/md/__init__.py",
        "kenkyu/tools/structure/_esm2.py",
        "kenkyu/tools/literature/_store.py",
        "kenkyu/kernels_md/__init__.py",
        "kenkyu/cli.py",
        "kenkyu/data/villin_1vii.pdb",
        "kenkyu/data/dhfr/5dfr_minimized.pdb",
        "kenkyu/data/dhfr/5dfr_solv-cube_equil.pdb",
        "kenkyu/data/dhfr/LICENSE",
    ):
        assert module in names, module
    # Every module of the source tree, under its mapped name (a subpackage missing from pyproject's list
    # would install fine in editable mode and vanish from the wheel).
    mapped = {
        "kenkyu": "kenkyu",
        "assistant": "kenkyu/assistant",
        "tools": "kenkyu/tools",
        "kernels_md": "kenkyu/kernels_md",
    }
    for folder, prefix in mapped.items():
        for source in (REPO / folder).rglob("*.py"):
            if "labextension" not in source.parts:
                assert f"{prefix}/{source.relative_to(REPO / folder).as_posix()}" in names, source
    # Test fixtures stay in tests/: nothing that builds fake models ships to scientists.
    assert not [n for n in names if "tiny_esm" in n or "testing" in n.rsplit("/", 1)[-1]]
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "kenkyu = kenkyu.cli:main" in entry_points


def test_wheel_ships_the_prebuilt_chat_sidebar(wheel):
    """JupyterLab finds prebuilt extensions under share/jupyter/labextensions: `pip install kenkyu` is enough."""
    archive = zipfile.ZipFile(wheel)
    prefix = next(
        n
        for n in archive.namelist()
        if n.endswith(".data/data/share/jupyter/labextensions/kenkyu-sidebar/package.json")
    )
    prefix = prefix[: -len("package.json")]
    assert prefix.startswith("kenkyu-") and "/data/share/jupyter/labextensions/" in prefix
    names = [n[len(prefix) :] for n in archive.namelist() if n.startswith(prefix)]
    assert "install.json" in names and "schemas/kenkyu-sidebar/plugin.json" in names
    assert any(n.startswith("static/remoteEntry.") and n.endswith(".js") for n in names), names
    package = json.loads(archive.read(prefix + "package.json"))
    assert package["name"] == "kenkyu-sidebar" and package["jupyterlab"]["_build"]["load"].startswith(
        "static/remoteEntry."
    )
    assert json.loads(archive.read(prefix + "install.json"))["packageName"] == "kenkyu"
    schema = json.loads(archive.read(prefix + "schemas/kenkyu-sidebar/plugin.json"))
    assert {"provider", "model", "base_url", "approval", "api_key_env"} <= set(schema["properties"])
    # The built extension ships once, as data, not again inside the Python package.
    assert not [n for n in archive.namelist() if n.startswith("kenkyu/labextension/")]


def test_installed_wheel_gives_jupyterlab_an_enabled_sidebar(wheel, tmp_path):
    prefix = tmp_path / "prefix"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--ignore-installed",
            "--prefix",
            str(prefix),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # --ignore-installed: without it pip would uninstall the environment's own (editable) kenkyu.
    assert Path(sys.executable).with_name("kenkyu").exists()
    jupyter = Path(sys.executable).with_name("jupyter")
    env = {**os.environ, "JUPYTER_PATH": str(prefix / "share" / "jupyter")}
    listing = subprocess.run(
        [str(jupyter), "labextension", "list"], check=False, capture_output=True, text=True, env=env, timeout=120
    )
    text = listing.stdout + listing.stderr
    section = text[text.index(str(prefix / "share" / "jupyter" / "labextensions")) :]
    line = next(ln for ln in section.splitlines() if "kenkyu-sidebar" in ln)
    assert "enabled" in line and "OK" in line and "(python, kenkyu)" in line, text


def test_load_ext_imports_nothing_heavy(tmp_path):
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_line_magic('load_ext', 'kenkyu')\n"
        "heavy = [m for m in ('openmm', 'torch', 'llama_cpp', 'openai', 'anthropic', 'mdtraj', 'numba', 'pandas',"
        " 'pydantic') if m in sys.modules]\n"
        "print(heavy, 'ask' in shell.magics_manager.magics['cell'])\n"
    )
    result = python(code, tmp_path)
    assert result.stdout.strip() == "[] True", result.stderr


def test_cli_version_and_help(tmp_path):
    kenkyu = Path(sys.executable).with_name("kenkyu")
    version = subprocess.run([str(kenkyu), "--version"], capture_output=True, text=True, timeout=60)
    assert version.stdout.strip().startswith("kenkyu 0.")
    helptext = subprocess.run([str(kenkyu), "--help"], capture_output=True, text=True, timeout=60).stdout
    assert "demo" in helptext and "report" in helptext


def test_cli_report_on_a_missing_notebook_says_so(tmp_path):
    kenkyu = Path(sys.executable).with_name("kenkyu")
    result = subprocess.run(
        [str(kenkyu), "report", str(tmp_path / "nope.ipynb")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "save the notebook first" in result.stderr
