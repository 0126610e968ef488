"""kenkyu.kernels_md: a dataflow-partitioned force backend for OpenMM, after MDGRAPE-5.

Space is cut into columns and tiles of columns; the non-bonded interactions of a tile with its half
shell, and chunks of bonded terms in a "bond engine", are medium-grain tasks of a task graph that
fire as soon as the data they read is ready (no global barrier), on persistent workers running
numba ``nogil`` kernels into per-task force buffers that per-tile reductions sum in a fixed order.
``dataflow_system(system, **options)`` plugs it into OpenMM through ``openmm.PythonForce``;
:mod:`kenkyu.kernels_md.model` predicts how a step scales on more workers or on a dataflow machine.

Importing this package is cheap: numba and OpenMM load on first use.
"""

from importlib import import_module

_EXPORTS = {
    "dataflow_system": "openmm_system",
    "backend_of": "openmm_system",
    "backends_of": "openmm_system",
    "UnsupportedForceError": "openmm_system",
    "DataflowBackend": "backend",
    "build_go_model": "cg",
    "CGModel": "cg",
    "TaskGraph": "taskgraph",
    "Task": "taskgraph",
    "DataflowScheduler": "scheduler",
}

__all__ = [  # noqa: RUF022 - grouped by module
    "dataflow_system",
    "backend_of",
    "backends_of",
    "UnsupportedForceError",
    "DataflowBackend",
    "build_go_model",
    "CGModel",
    "TaskGraph",
    "Task",
    "DataflowScheduler",
]


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
