"""Domain tools, each a public function usable by hand and registered as an agent tool.

Submodules are imported on first use: ``kenkyu.tools.md`` pulls in OpenMM, ``kenkyu.tools.structure``
pulls in torch, and neither should slow down ``%load_ext kenkyu``.
"""

import importlib

# The modules the agent's registry scans for @tool functions, in the order the agent sees them.
TOOL_MODULES = (
    "kenkyu.tools.md",
    "kenkyu.tools.analysis",
    "kenkyu.tools.viz",
    "kenkyu.tools.ensembles",
    "kenkyu.tools.unfolding",
    "kenkyu.tools.structure",
    "kenkyu.tools.mutants",
    "kenkyu.tools.prediction_check",
    "kenkyu.tools.literature",
)

_SUBMODULES = {name.rsplit(".", 1)[-1] for name in TOOL_MODULES}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"kenkyu.tools.{name}")
    raise AttributeError(f"module 'kenkyu.tools' has no attribute {name!r}")
