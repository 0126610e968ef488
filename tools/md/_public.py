"""Tools defined in submodules of :mod:`kenkyu.tools.md` but shown as ``kenkyu.tools.md.<name>``.

The registry names a tool ``<module>_<function>`` and an action cell calls ``<module>.<function>``:
setting ``__module__`` (as numpy's ``set_module`` does) makes ``minimize`` in ``_minimize.py`` the
tool ``md_minimize`` called as ``kenkyu.tools.md.minimize(...)``, the same call a scientist types.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = "kenkyu.tools.md"


def public(function):
    """Present ``function`` as ``kenkyu.tools.md.<name>``; apply it below ``@tool``."""
    function.__module__ = PACKAGE
    return function


def structure_stem(structure) -> str:
    if isinstance(structure, (str, os.PathLike)):
        return Path(structure).stem
    return type(structure).__name__.lower()


def as_run(run):
    """An :class:`~kenkyu.tools.md.MDRun` from a run folder path or an MDRun; a clear error otherwise."""
    from kenkyu.tools.md import RUN_JSON, MDRun

    if isinstance(run, MDRun):
        return run
    if not isinstance(run, (str, os.PathLike)):
        raise TypeError(f"expected a run folder (path) or an MDRun, not a {type(run).__name__}")
    folder = Path(run)
    if not (folder / RUN_JSON).exists():
        why = "does not exist" if not folder.exists() else f"holds no {RUN_JSON}"
        raise FileNotFoundError(f"{folder} is not a kenkyu MD run folder: it {why}")
    return MDRun(folder)
