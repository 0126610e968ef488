"""nglview is imported asking for the frontend version this Jupyter installed (upstream nglview#1172)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from kenkyu.tools import _nglview


def _in_fresh_python(code: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_widgets_ask_for_the_installed_labextension_version():
    installed = _nglview.installed_frontend_version()
    assert installed, "the nglview JupyterLab extension should be installed with nglview"
    seen = _in_fresh_python(
        """
        import json
        from kenkyu.tools._nglview import import_nglview
        nglview = import_nglview()
        w = nglview.NGLWidget()
        print(json.dumps({"model": w._model_module_version, "view": w._view_module_version}))
        """
    )
    assert seen == {"model": installed, "view": installed}


def test_an_nglview_imported_first_by_the_user_is_fixed_too():
    installed = _nglview.installed_frontend_version()
    seen = _in_fresh_python(
        """
        import json
        import nglview
        from kenkyu.tools._nglview import import_nglview
        import_nglview()
        w = nglview.NGLWidget()
        print(json.dumps({"model": w._model_module_version}))
        """
    )
    assert seen == {"model": installed}


def test_versions_that_agree_are_left_alone():
    assert _nglview._agrees("4.0", "4.0.1")
    assert _nglview._agrees("3.1.5", "3.1.5")
    assert not _nglview._agrees("4.0", "3.1.5")
    assert not _nglview._agrees("4.0", "4.01.0")
