"""An optional trace of the sidebar comm's traffic, to find out why a sidebar waits for nothing.

Set ``KENKYU_COMM_LOG`` to a file path in the environment Jupyter (and so the kernel) starts with:
each message in and out of a ``kenkyu.chat`` comm is appended there as one line: time, thread,
direction, comm id, message type, request id, event kind, and the kernel subshell it came on (in)
or the shell message it was sent under (out). Only these fields, never prompts, code or outputs, so
the log holds no secrets. The browser test sets it and keeps the file when it fails.
"""

from __future__ import annotations

import os
import threading
import time

ENV = "KENKYU_COMM_LOG"
_lock = threading.Lock()


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def trace(direction: str, comm_id: str, data, *, shell_msg: dict | None = None, note: str = "") -> None:
    """Append one line for a message (``direction``: ``in``, ``out``, ``open``, ``close``...)."""
    path = os.environ.get(ENV)
    if not path:
        return
    data = data if isinstance(data, dict) else {}
    event = data.get("event") if isinstance(data.get("event"), dict) else {}
    header = (shell_msg or {}).get("header") or {}
    fields = [
        f"{time.time():.3f}",
        threading.current_thread().name,
        direction,
        f"comm={str(comm_id)[:8]}",
        f"type={data.get('type')}",
        f"request={data.get('request_id')}",
    ]
    if event.get("kind"):
        fields.append(f"event={event['kind']}")
    if data.get("cell_request_id"):
        fields.append(f"cell={str(data['cell_request_id'])[:12]}")
    if header:
        fields.append(f"msg={header.get('msg_type')}/{str(header.get('msg_id'))[:8]}")
        fields.append(f"subshell={header.get('subshell_id')}")
    if note:
        fields.append(note)
    with _lock, open(path, "a", encoding="utf-8") as log:
        log.write(" ".join(fields) + "\n")


def kernel_parent() -> dict:
    """The shell message the kernel would name as parent of a message sent now (from this thread)."""
    try:
        from ipykernel.kernelbase import Kernel

        return Kernel.instance().get_parent() if Kernel.initialized() else {}
    except Exception:  # noqa: BLE001 - a trace must never break the comm
        return {}
