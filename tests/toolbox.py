"""Small tools for testing the agent's mechanics (the domain tools have their own tests)."""

from __future__ import annotations

import os

from kenkyu.core.registry import tool


@tool(keywords=("multiply", "power"))
def square(x: float) -> float:
    """Square a number.

    Parameters
    ----------
    x
        The number to square.
    """
    print(f"squaring {x}")
    return x * x


@tool()
def explode(reason: str = "boom") -> None:
    """Raise an error, to see how failures look."""
    raise RuntimeError(reason)


@tool(approval="ask", writes_files=True)
def write_note(path: str, text: str) -> str:
    """Write a text note to a file.

    Parameters
    ----------
    path
        Where to write the note.
    text
        What to write.
    """
    with open(path, "w") as handle:
        handle.write(text)
    return os.path.abspath(path)


@tool()
def interrupt() -> None:
    """Behave as if the user pressed the stop button."""
    raise KeyboardInterrupt
