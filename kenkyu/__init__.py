"""kenkyu (研究): a research assistant that lives inside Jupyter.

`%load_ext kenkyu` registers the magics. Everything heavy (providers, domain tools, OpenMM, torch)
is imported on first use, so loading the extension stays fast.
"""

from kenkyu._version import __version__

__all__ = ["__version__", "export_report", "load_ipython_extension", "tool", "unload_ipython_extension"]


def load_ipython_extension(ipython):
    from kenkyu.assistant import redacted_outputs
    from kenkyu.assistant.magics import register

    register(ipython)
    # From here on no secret leaves the kernel into the notebook: model text, tool outputs, errors.
    redacted_outputs.install(ipython)


def unload_ipython_extension(ipython):
    from kenkyu.assistant import redacted_outputs
    from kenkyu.assistant.magics import unregister

    unregister(ipython)
    redacted_outputs.uninstall(ipython)


def export_report(*args, **kwargs):
    """Write a clean, executable report notebook; see `kenkyu.assistant.export.export_report`."""
    from kenkyu.assistant.export import export_report as _export_report

    return _export_report(*args, **kwargs)


def __getattr__(name):
    # `@kenkyu.tool` lets scientists register their own functions without importing the agent up front;
    # `kenkyu.tools.md...` works after a plain `import kenkyu`, importing the subpackage on first touch.
    if name == "tool":
        from kenkyu.core.registry import tool

        return tool
    if name in ("assistant", "tools", "kernels_md"):
        import importlib

        return importlib.import_module(f"kenkyu.{name}")
    raise AttributeError(f"module 'kenkyu' has no attribute {name!r}")
