"""The "run in a new folder" offer comes from RunExistsError.new_folder, never from the error's words.

md.run sets it when its folder holds a run made with other settings; the assistant's card (new_folder_code)
and the md command line read it. The sidebar's runner hands the agent a CellError (a name and a text): the
kernel's own exception object, which IPython keeps in sys.last_value, is read instead.
"""

from __future__ import annotations

import pickle
import sys

from kenkyu.assistant.interrupts import new_folder_code, new_folder_offered
from kenkyu.assistant.notebook_runner import CellError
from kenkyu.core.registry import ToolRegistry
from kenkyu.tools.md import RunExistsError


def md_run_tool():
    return ToolRegistry.from_modules(["kenkyu.tools.md"])["md_run"]


def test_the_card_offers_the_folder_the_error_carries_not_one_its_words_name():
    refused = RunExistsError("md_runs/a holds a run made with other settings", new_folder="md_runs/a_360K")
    arguments = {"structure": "villin.pdb", "out": "md_runs/a", "temperature_k": 360.0, "resume": True}
    code = new_folder_code(md_run_tool(), arguments, "run", refused)
    # (resume=True in a folder not made yet only makes the cell re-runnable; nothing is deleted)
    assert "out='md_runs/a_360K'" in code and "out='md_runs/a'," not in code and "overwrite" not in code
    # The old words without the attribute offer nothing: a message reworded cannot invent a folder.
    worded = RunExistsError("... neither is offered: run in a new folder, out='md_runs/elsewhere'")
    assert worded.new_folder is None and new_folder_code(md_run_tool(), arguments, "run", worded) == ""
    assert new_folder_code(md_run_tool(), arguments, "run", ValueError("bad")) == ""
    assert new_folder_code(md_run_tool(), arguments, "run", None) == ""


def test_the_sidebars_cell_error_is_read_through_the_kernels_own_exception(monkeypatch):
    kernel_error = RunExistsError("md_runs/a holds a run made with other settings", new_folder="md_runs/a_new")
    monkeypatch.setattr(sys, "last_value", kernel_error, raising=False)
    assert new_folder_offered(CellError("RunExistsError", str(kernel_error))) == "md_runs/a_new"
    # A cell that failed with another error is not matched to that exception.
    assert new_folder_offered(CellError("ValueError", "bad input")) is None


def test_the_new_folder_survives_pickling_as_dask_and_processes_send_errors():
    refused = pickle.loads(pickle.dumps(RunExistsError("held", new_folder="md_runs/x_new")))
    assert isinstance(refused, FileExistsError) and refused.new_folder == "md_runs/x_new" and str(refused) == "held"
    # dask's distributed pickles exceptions through tblib, which once failed on this error's two builtin bases
    # (the full suite failed only after a test that imported distributed).
    from tblib import pickling_support

    pickling_support.install()
    try:
        raise RunExistsError("held", new_folder="md_runs/x_new")
    except RunExistsError as raised:
        sent = pickle.loads(pickle.dumps(raised))
    assert sent.new_folder == "md_runs/x_new" and str(sent) == "held"
