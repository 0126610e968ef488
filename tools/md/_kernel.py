"""The value a kernel variable holds, for what is worked out before a call runs (its folder, its price).

The agent's call names a kernel variable where the notebook has one (``extend(run=run)``, ``run(structure=pdb)``):
the action cell passes the value, but the call's arguments hold the name. The approval card is made in the same
kernel, so the name is looked up there; outside IPython (or for a name it does not hold) there is nothing to find.
"""

from __future__ import annotations


def kernel_value(name):
    """What the IPython kernel's variable ``name`` holds, or None (no kernel, not a name, or not defined)."""
    if not isinstance(name, str) or not name.isidentifier():
        return None
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return None if shell is None else shell.user_ns.get(name)
