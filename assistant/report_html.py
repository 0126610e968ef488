"""The report as a static HTML page: nothing in it runs when it is opened.

A report holds text kenkyu did not write: the model's replies, passages of the scientist's documents,
tools' HTML outputs. Any of it may carry ``<script>``, an ``onerror=`` attribute or a ``javascript:``
link. nbconvert renders the notebook; then its content (the ``<main>`` element) is cleaned with bleach,
which escapes what is not an allowed tag (so hostile markup is shown as text, not lost) and drops unsafe
attributes and URL schemes. nbconvert's own ``sanitize_html`` escapes ordinary Markdown (headings,
paragraphs, tables) as well, so it is not used. The template's scripts (MathJax and require.js from a
CDN) are removed too: the page promises to run nothing, and offline they could not load anyway; math
stays readable as TeX.
"""

from __future__ import annotations

import re

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "details", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "kbd", "li", "mark", "ol", "p", "pre", "s", "samp", "small", "span", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
}  # fmt: skip
_COMMON_ATTRIBUTES = {"class", "id", "title", "tabindex", "align", "colspan", "rowspan", "data-mime-type"}
_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,|^https?:", re.IGNORECASE)
_LINK = re.compile(r"^(https?:|mailto:|#)", re.IGNORECASE)
_MAIN = re.compile(r"<main\b[^>]*>", re.IGNORECASE)
# The page's frame; an output can hold a stray </main> or </body> (nbconvert's parser then moves the real
# one), so the frame is rebuilt after cleaning rather than trusted.
_FRAME = re.compile(r"</?(main|body|html)\b[^>]*>", re.IGNORECASE)
_STYLE = re.compile(r"<style\b[^>]*>.*?</style\s*>", re.DOTALL | re.IGNORECASE)
# Widgets (progress bars) are saved as JSON in script elements a browser does not run; without their
# JavaScript they show nothing, and escaped they would show a page of JSON: they are dropped.
_WIDGET = re.compile(
    r"<script\b[^>]*application/vnd\.jupyter\.widget-(state|view)\+json[^>]*>.*?</script\s*>",
    re.DOTALL | re.IGNORECASE,
)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.DOTALL | re.IGNORECASE)


def _allowed(tag: str, name: str, value: str) -> bool:
    if name in _COMMON_ATTRIBUTES:
        return True
    if tag == "a" and name == "href":
        return bool(_LINK.match(value.strip()))
    if tag == "img" and name in ("alt", "width", "height"):
        return True
    if tag == "img" and name == "src":
        return bool(_IMAGE.match(value.strip()))
    return False


def clean_fragment(html: str) -> str:
    """HTML from cells and outputs with every way to run code escaped or removed."""
    import bleach

    return bleach.clean(
        html,
        tags=_TAGS,
        attributes=_allowed,
        protocols={"http", "https", "mailto", "data"},
        strip=False,
        strip_comments=True,
    )


def report_html(report) -> str:
    """The report notebook as one static HTML page (the lab template, without scripts)."""
    from nbconvert import HTMLExporter

    page, _ = HTMLExporter().from_notebook_node(report)
    start = _MAIN.search(page)
    if start is None:  # a template without <main>: refuse rather than write an unchecked page
        raise RuntimeError("nbconvert's HTML has no <main> element to clean; the report's HTML was not written")
    # Everything from the first <main> on is the notebook's content; before it, only the template.
    content = _FRAME.sub("", _STYLE.sub("", _WIDGET.sub("", page[start.end() :])))
    return _SCRIPT.sub("", page[: start.end()]) + clean_fragment(content) + "</main>\n</body>\n</html>\n"
