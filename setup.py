"""Build step for the JupyterLab extension; everything else about the package is in pyproject.toml.

The chat sidebar (labext/, TypeScript) is built with jlpm into kenkyu/labextension/ by
hatch-jupyter-builder's npm builder whenever the built copy is missing or older than its sources,
and ships as data files under share/jupyter/labextensions/kenkyu-sidebar/, where JupyterLab finds
prebuilt extensions. Setuptools stays the backend because its package-dir mapping is the one that
works for editable installs too (see /work/shared/DESIGN.md).
"""

import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
LABEXT_SOURCE = HERE / "labext"
LABEXT_BUILT = HERE / "kenkyu" / "labextension"
LABEXT_NAME = "kenkyu-sidebar"
LABEXT_DEST = Path("share") / "jupyter" / "labextensions" / LABEXT_NAME
# What the built extension is made from; node_modules and lib/ are outputs, not sources.
LABEXT_INPUTS = ["src", "schema", "style", "package.json", "tsconfig.json"]


def _newest_mtime(paths) -> float:
    newest = 0.0
    for path in paths:
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for child in path.rglob("*"):
                if child.is_file() and "__tests__" not in child.parts:
                    newest = max(newest, child.stat().st_mtime)
    return newest


def labextension_is_stale() -> bool:
    built = LABEXT_BUILT / "package.json"
    if not built.exists():
        return True
    return _newest_mtime(LABEXT_SOURCE / name for name in LABEXT_INPUTS) > _newest_mtime([LABEXT_BUILT])


def build_labextension() -> None:
    """`jlpm install && jlpm build:prod` in labext/ when the built extension is missing or stale."""
    if not LABEXT_SOURCE.exists():
        return  # building from a wheel-like tree without the TypeScript sources
    if os.environ.get("KENKYU_SKIP_LABEXT") == "1" or not labextension_is_stale():
        return
    if shutil.which("node") is None or shutil.which("jlpm") is None:
        raise RuntimeError(
            "building kenkyu's JupyterLab extension needs Node.js (20 or newer) and jlpm (from jupyterlab): "
            "install Node.js, or set KENKYU_SKIP_LABEXT=1 to install kenkyu without the chat sidebar"
        )
    from hatch_jupyter_builder import npm_builder

    npm_builder(
        target_name="wheel",
        version="standard",
        path=str(LABEXT_SOURCE),
        build_cmd="build:prod",
        npm=["jlpm"],
        force=True,
    )


def labextension_data_files() -> list[tuple[str, list[str]]]:
    """(install folder, [files]) pairs for the built extension plus its install.json."""
    if not LABEXT_BUILT.exists():
        return []
    by_folder: dict[str, list[str]] = {}
    for path in sorted(LABEXT_BUILT.rglob("*")):
        if path.is_file():
            folder = LABEXT_DEST / path.parent.relative_to(LABEXT_BUILT)
            by_folder.setdefault(folder.as_posix(), []).append(path.relative_to(HERE).as_posix())
    by_folder.setdefault(LABEXT_DEST.as_posix(), []).append("labext/install.json")
    return sorted(by_folder.items())


class BuildPyWithLabextension(build_py):
    """build_py that first brings the extension up to date, then hands its files to install_data."""

    def run(self):
        build_labextension()
        data_files = self.distribution.data_files
        # install_data reads this same list later in the build; extend it in place.
        data_files[:] = [entry for entry in data_files if not entry[0].startswith(LABEXT_DEST.as_posix())]
        data_files.extend(labextension_data_files())
        super().run()


if __name__ == "__main__":  # run by the build backend; tests import the helpers above
    setup(cmdclass={"build_py": BuildPyWithLabextension}, data_files=labextension_data_files())
