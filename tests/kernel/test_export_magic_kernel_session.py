"""`%kenkyu export` in a kernel that does not know its notebook's file (a console, a kernel a script drives):
it exports the cells the kernel ran, as `%%ask export the report` does there, instead of answering "Which
notebook?" (a newcomer met both answers for the same session). A real ipykernel."""

import nbformat
from comm_client import printed as run
from comm_client import running_kernel


def test_the_export_magic_writes_the_report_of_this_kernels_cells(tmp_path):
    with running_kernel(tmp_path, {"JPY_SESSION_NAME": ""}) as client:
        run(client, "%load_ext kenkyu")
        run(client, "frames = [0.1, 0.2, 0.3]\nmean = sum(frames) / len(frames)")
        out = run(client, "%kenkyu export --no-html")
        again = run(client, "%kenkyu export --no-html")
    assert "Which notebook?" not in out, out
    assert "report notebook: kenkyu_session_report/kenkyu_session.report.ipynb" in out, out
    assert "re-executed from a fresh kernel: no" in out
    report = nbformat.read(tmp_path / "kenkyu_session_report" / "kenkyu_session.report.ipynb", as_version=4)
    assert any("mean = sum(frames) / len(frames)" in c.source for c in report.cells if c.cell_type == "code")
    # A second export does not overwrite the first without being asked: it says how.
    assert again.startswith("kenkyu export:") and "overwrite" in again, again
