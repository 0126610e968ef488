"""No secret reaches a notebook through the kernel's outputs while kenkyu is loaded.

A notebook saves what its kernel sends on the IOPub channel: streams (prints, progress), display data
(the streamed model text, approval cards, figures), results and errors. Action cells run in the kernel
(``%%ask`` in place, the sidebar through the notebook), and a tool or a model may print or return a key,
so kenkyu redacts at the one place all of these pass: the kernel session's ``send``. Hooks on the display
publisher would miss error messages and other threads (the sidebar's agent runs in one), which is why it
is the session.

Only secrets are blanked (see :mod:`kenkyu.core.secrets`); ordinary output is sent unchanged.
"""

from __future__ import annotations

import functools

from kenkyu.core.secrets import redact_mimebundle, redact_obj

# Messages whose content a front end shows or saves into the notebook; shell replies carry the error
# text too (a client may show it).
_CONTENT_FIELDS = {
    "stream": ("text",),
    "error": ("ename", "evalue", "traceback"),
    "execute_reply": ("ename", "evalue", "traceback"),
    "input_request": ("prompt",),
}
_BUNDLES = ("display_data", "update_display_data", "execute_result")
_COMM = ("comm_msg", "comm_open")
_MARK = "_kenkyu_redacting"


def redact_content(msg_type: str, content):
    """The content of one Jupyter message with its secrets blanked (other messages unchanged)."""
    if not isinstance(content, dict):
        return content
    if msg_type in _BUNDLES and isinstance(content.get("data"), dict):
        return {**content, "data": redact_mimebundle(content["data"])}
    if msg_type in _COMM:
        return {**content, "data": redact_obj(content.get("data"))}
    fields = _CONTENT_FIELDS.get(msg_type)
    if fields:
        return {**content, **{f: redact_obj(content[f]) for f in fields if f in content}}
    return content


def install(shell) -> bool:
    """Redact every message the kernel of ``shell`` sends from now on. False outside a Jupyter kernel
    (terminal IPython writes no notebook); installing twice is a no-op."""
    session = getattr(getattr(shell, "kernel", None), "session", None)
    if session is None or getattr(session.send, _MARK, False):
        return False
    original = session.send

    @functools.wraps(original)
    def send(stream, msg_or_type, content=None, *args, **kwargs):
        if isinstance(msg_or_type, dict):  # a message built already (display publisher, display hook, streams)
            msg_type = msg_or_type.get("header", {}).get("msg_type") or msg_or_type.get("msg_type")
            redacted = redact_content(msg_type, msg_or_type.get("content"))
            if redacted is not msg_or_type.get("content"):
                msg_or_type = {**msg_or_type, "content": redacted}
        else:
            content = redact_content(msg_or_type, content)
        return original(stream, msg_or_type, content, *args, **kwargs)

    setattr(send, _MARK, True)
    send.__wrapped_send__ = original
    session.send = send
    return True


def uninstall(shell) -> None:
    session = getattr(getattr(shell, "kernel", None), "session", None)
    if session is not None and getattr(session.send, _MARK, False):
        session.send = session.send.__wrapped_send__
