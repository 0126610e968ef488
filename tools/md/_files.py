"""Files of a run directory: atomic writes, the checkpoint format, and cutting outputs back on resume.

Crash safety rests on two rules:

* every file that describes the run's state (``checkpoint.chk``, ``run.json``) is written to a
  temporary file in the same directory and moved into place with ``os.replace``, which is atomic on
  POSIX and Windows, so a SIGKILL leaves either the old or the new version, never half of one;
* the trajectory and the state-data CSV are append-only and may run ahead of the checkpoint; on
  resume they are cut back to exactly the number of frames/rows the checkpoint recorded.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import struct
from pathlib import Path

from kenkyu.tools.md._errors import DiskFullError, ResumeError

CHECKPOINT_MAGIC = b"KENKYU-CHECKPOINT 1\n"


@contextlib.contextmanager
def explain_disk_full(path: os.PathLike | str):
    """Turn ENOSPC into a :class:`DiskFullError` that says what to do."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.ENOSPC and not isinstance(exc, DiskFullError):
            raise DiskFullError(
                errno.ENOSPC,
                f"No space left on the device while writing {path}. Free some space (or pass out= on a disk "
                "with room) and call the same run again with resume=True: it continues from the last "
                "complete checkpoint, which a full disk cannot corrupt because checkpoints are written "
                "to a temporary file first.",
            ) from exc
        raise


def write_atomic(path: os.PathLike | str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never a torn one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with explain_disk_full(path):
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()


def write_json_atomic(path: os.PathLike | str, payload: dict) -> None:
    write_atomic(path, (json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n").encode())


def read_json(path: os.PathLike | str) -> dict:
    return json.loads(Path(path).read_text())


# -- checkpoint: one file, a JSON header line followed by OpenMM's binary checkpoint --------------------
# Keeping the bookkeeping (phase, step, frames written) in the same file as the OpenMM state means a
# single os.replace updates both together; two files could disagree after a kill between the writes.


def write_checkpoint(path: os.PathLike | str, info: dict, openmm_checkpoint: bytes) -> None:
    header = json.dumps(info, sort_keys=True).encode()
    write_atomic(path, CHECKPOINT_MAGIC + header + b"\n" + openmm_checkpoint)


def read_checkpoint(path: os.PathLike | str) -> tuple[dict, bytes]:
    blob = Path(path).read_bytes()
    if not blob.startswith(CHECKPOINT_MAGIC):
        raise ResumeError(f"{path} is not a kenkyu checkpoint (wrong header); it cannot be resumed from.")
    header, _, state = blob[len(CHECKPOINT_MAGIC) :].partition(b"\n")
    return json.loads(header), state


# -- cutting outputs back to the checkpoint -------------------------------------------------------------


def truncate_csv(path: Path, rows: int) -> None:
    """Keep the header line and the first ``rows`` data rows; drop any torn last line."""
    if not path.exists():
        if rows:
            raise ResumeError(f"{path} is missing but the checkpoint says it held {rows} rows.")
        return
    lines = path.read_bytes().split(b"\n")
    complete = [line for line in lines[:-1]]  # the part after the last newline is torn or empty
    if len(complete) < rows + 1:
        raise ResumeError(
            f"{path} holds {max(len(complete) - 1, 0)} complete rows but the checkpoint says {rows}; "
            "the run directory was changed by hand. Start over with overwrite=True."
        )
    if len(complete) == rows + 1 and lines[-1] == b"":
        return
    write_atomic(path, b"\n".join(complete[: rows + 1]) + b"\n")


def truncate_dcd(path: Path, frames: int) -> None:
    """Cut a DCD file (as OpenMM writes it) back to ``frames`` frames and fix its header."""
    if not path.exists():
        if frames:
            raise ResumeError(f"{path} is missing but the checkpoint says it held {frames} frames.")
        return
    with open(path, "r+b") as handle:
        header = handle.read(100)
        if len(header) < 100 or header[4:8] != b"CORD":
            if frames == 0:  # killed before the first frame's header was complete
                handle.truncate(0)
                return
            raise ResumeError(f"{path} has no valid DCD header; it cannot be resumed.")
        first_step, interval = struct.unpack("<2i", header[12:20])
        has_box = struct.unpack("<i", header[48:52])[0] != 0
        handle.seek(92)
        comments = struct.unpack("<i", handle.read(4))[0]
        handle.seek(104 + comments)
        n_atoms = struct.unpack("<i", handle.read(4))[0]
        header_size = 112 + comments
        frame_size = (56 if has_box else 0) + 3 * (8 + 4 * n_atoms)
        wanted = header_size + frames * frame_size
        size = os.fstat(handle.fileno()).st_size
        if size < wanted:
            raise ResumeError(
                f"{path} holds {(size - header_size) // frame_size} complete frames but the checkpoint says "
                f"{frames}; the file was changed by hand. Start over with overwrite=True."
            )
        handle.truncate(wanted)
        handle.seek(8)
        handle.write(struct.pack("<i", frames))
        handle.seek(20)
        handle.write(struct.pack("<i", first_step + max(frames - 1, 0) * interval))
        handle.flush()
        os.fsync(handle.fileno())


def truncate_xtc(path: Path, frames: int) -> None:
    """Rewrite an XTC file with its first ``frames`` frames (XTC frames are compressed, so no byte cut)."""
    if not path.exists() or path.stat().st_size == 0:
        if frames:
            raise ResumeError(f"{path} is missing but the checkpoint says it held {frames} frames.")
        return
    from mdtraj.formats import XTCTrajectoryFile

    with XTCTrajectoryFile(str(path), "r") as xtc:
        xyz, time, step, box = xtc.read(n_frames=frames) if frames else (None, None, None, None)
    if frames and (xyz is None or len(xyz) < frames):
        raise ResumeError(f"{path} holds fewer frames than the checkpoint's {frames}; start over with overwrite=True.")
    tmp = path.with_name(f".{path.name}.tmp")
    with explain_disk_full(path):
        if frames:
            with XTCTrajectoryFile(str(tmp), "w") as out:
                out.write(
                    xyz[:frames],
                    time=None if time is None else time[:frames],
                    step=None if step is None else step[:frames],
                    box=None if box is None else box[:frames],
                )
        else:
            tmp.write_bytes(b"")
        os.replace(tmp, path)
