"""Import nglview so that its widgets load in the JupyterLab actually installed.

nglview 4.0.x asks the browser for its JavaScript module at version "4.0", while the JupyterLab extension
its wheel installs registers itself as 3.1.5 (upstream nglview#1172). JupyterLab's widget manager then
refuses to build the view ("Module nglview-js-widgets, version 4.0 is not registered, however, 3.1.5 is")
and the output cell stays empty: a scientist sees no structure and no error.

The fix is the smallest one that keeps nglview untouched: ask for the version that is installed. The
Python side reads its version from ``nglview._frontend``; when the installed labextension's
``package.json`` says something else, that module is provided with the installed version before nglview
is imported. Where nglview was imported already (the user's own ``import nglview``), the widget classes'
version defaults are set instead. Nothing changes when no labextension is installed (classic notebook,
VS Code) or when the versions already agree.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
import types
from pathlib import Path

_MODULE = "nglview-js-widgets"


def installed_frontend_version() -> str | None:
    """The version the installed nglview JupyterLab extension registers, or None when none is installed."""
    try:
        from jupyter_core.paths import jupyter_path
    except ImportError:  # no Jupyter here: nothing to match
        return None
    for folder in jupyter_path("labextensions"):
        package = Path(folder) / _MODULE / "package.json"
        if package.is_file():
            try:
                return str(json.loads(package.read_text())["version"])
            except (OSError, ValueError, KeyError):
                return None
    return None


def requested_frontend_version() -> str | None:
    """The version nglview's Python side asks for, read from its source without importing it."""
    spec = importlib.util.find_spec("nglview")
    if spec is None or not spec.submodule_search_locations:
        return None
    source = Path(next(iter(spec.submodule_search_locations))) / "_frontend.py"
    try:
        tree = ast.parse(source.read_text())
    except (OSError, SyntaxError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__frontend_version__" for t in node.targets):
            value = node.value
            return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
    return None


def _agrees(requested: str, installed: str) -> bool:
    """JupyterLab's registry matches a requested "4.0" against 4.0.x, "3.1.5" only against 3.1.5."""
    return installed == requested or installed.startswith(requested + ".")


def import_nglview():
    """``import nglview``, with its widgets asking for the frontend version this Jupyter has installed."""
    installed = installed_frontend_version()
    requested = requested_frontend_version()
    mismatch = installed is not None and requested is not None and not _agrees(requested, installed)
    imported_before = "nglview" in sys.modules
    if mismatch and not imported_before:
        frontend = types.ModuleType("nglview._frontend")
        frontend.__frontend_version__ = installed
        sys.modules["nglview._frontend"] = frontend  # found by nglview's own `from ._frontend import ...`
    import nglview

    if mismatch and imported_before:
        _set_class_versions(nglview, installed)
    return nglview


def _set_class_versions(nglview, version: str) -> None:
    """For an nglview imported before us: every widget class of nglview-js-widgets asks for `version`."""
    from ipywidgets import Widget

    seen: set[type] = set()
    pending = [Widget]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                pending.append(sub)
    for cls in seen:
        traits = cls.class_traits()
        if "_model_module" in traits and traits["_model_module"].default_value == _MODULE:
            # traitlets keeps a per-class copy of immutable defaults, made when the class was created.
            cached = cls.__dict__.get("_static_immutable_initial_values", {})
            for name in ("_model_module_version", "_view_module_version"):
                if name in traits:
                    traits[name].default_value = version
                if name in cached:
                    cached[name] = version
