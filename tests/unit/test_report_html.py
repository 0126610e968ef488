"""The report's HTML runs nothing, whatever text the model, the documents or the tools put in it."""

from html.parser import HTMLParser

import nbformat.v4 as v4

from kenkyu.assistant.report_html import report_html

HOSTILE_MARKDOWN = (
    "# Findings\n\nThe model said: <script>alert('md-script')</script> and "
    "<img src=x onerror=\"alert('md-onerror')\"> see [the paper](javascript:alert('md-link')) or "
    "<a href=\"JavaScript:alert('md-anchor')\">this</a>; a real source: [PDB](https://www.rcsb.org/structure/1VII).\n\n"
    "| residue | RMSF (nm) |\n|---|---|\n| MET41 | 0.172 |\n\n<sub>computed by kenkyu</sub>"
)
HOSTILE_TOOL_HTML = (
    "<b>Result</b><script>alert('out-script')</script><svg onload=\"alert('out-svg')\"></svg>"
    "</main></body><script>alert('out-after-frame')</script><iframe src=\"javascript:alert('out-iframe')\"></iframe>"
    "<style>body{background:url(javascript:alert('out-css'))}</style>"
)


class _Executable(HTMLParser):
    """Collects what a browser would run: script elements, event-handler attributes, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found, self.texts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._in_script = True
            self.found.append(f"<script {attrs}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}={value}")
            if value and "javascript:" in value.replace(" ", "").lower():
                self.found.append(f"{tag} {name}={value}")

    def handle_endtag(self, tag):
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data):
        if self._in_script:
            self.found.append(data)
        self.texts.append(data)


def hostile_report():
    code = v4.new_code_cell("show(result)")
    code.outputs = [
        v4.new_output("display_data", data={"text/html": HOSTILE_TOOL_HTML, "text/plain": "Result"}),
        v4.new_output("display_data", data={"application/javascript": "alert('out-js')", "text/plain": "js"}),
        v4.new_output(
            "display_data",
            data={"text/markdown": "Reply: <script>alert('reply-script')</script> done", "text/plain": "Reply"},
        ),
        v4.new_output("display_data", data={"image/png": "iVBORw0KGgoAAAANSUhEUg==", "text/plain": "<Figure>"}),
    ]
    return v4.new_notebook(cells=[v4.new_markdown_cell(HOSTILE_MARKDOWN), code])


def test_hostile_text_in_markdown_and_tool_html_comes_out_inert():
    page = report_html(hostile_report())
    parser = _Executable()
    parser.feed(page)
    assert parser.found == []
    assert "alert(" in page  # the hostile text is shown, escaped, not silently dropped...
    text = "".join(parser.texts)
    assert "<script>alert('md-script')</script>" in text  # ...as text a reader sees
    # The ordinary report survives: headings, tables, safe links and figures.
    assert '<h1 id="Findings">' in page and "<td>MET41</td>" in page and "<sub>computed by kenkyu</sub>" in page
    assert 'href="https://www.rcsb.org/structure/1VII"' in page
    assert 'src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="' in page
    assert page.rstrip().endswith("</main>\n</body>\n</html>")


def test_widget_state_is_left_out_not_shown_as_text():
    code = v4.new_code_cell("run")
    view = {"version_major": 2, "version_minor": 0, "model_id": "abc123"}
    code.outputs = [
        v4.new_output(
            "display_data",
            data={"application/vnd.jupyter.widget-view+json": view, "text/plain": "12/12 ps [03:15<00:00]"},
        )
    ]
    nb = v4.new_notebook(cells=[code])
    nb.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {"version_major": 2, "version_minor": 0, "state": {}}
    }
    page = report_html(nb)
    assert "version_major" not in page and "model_id" not in page
    parser = _Executable()
    parser.feed(page)
    assert parser.found == []
