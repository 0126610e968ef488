"""Overhead of one MCP tool call over calling the same function in a kernel directly (goal ≤ 50 ms).

Starts ``kenkyu mcp`` (stdio) and drives it with the mcp SDK's client; the reference is a second Jupyter
kernel running the same action cell, timed inside the kernel. Calls alternate between the two so that
other jobs on the machine slow both alike. The MCP time includes everything an outside agent waits for:
argument checks, the cell's round trip to the kernel, the result's summary, the atomic rewrite of the
session notebook and the JSON-RPC transport.

    python benchmarks/bench_mcp.py [--calls 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from jupyter_client.manager import start_new_kernel
from mcp import Client, StdioServerParameters

TOOL, ARGS = "structure_list_models", {}
CODE = "import kenkyu.tools.structure\n\nlist_models = kenkyu.tools.structure.list_models()\nlist_models"
TIMED = f"import time as _t\n_s = _t.perf_counter()\n{CODE.rsplit(chr(10), 1)[0]}\nprint(_t.perf_counter() - _s)"


def in_kernel_seconds(kc) -> float:
    printed = []
    kc.execute_interactive(TIMED, output_hook=lambda m: printed.append(m["content"].get("text", "")), timeout=60)
    return float("".join(printed).strip())


async def main(calls: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench_mcp_"))
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "kenkyu", "mcp", "--notebook", str(folder / "bench.ipynb")]
    )
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        async with Client(params) as client:
            await client.call_tool(TOOL, ARGS)  # warm: imports in the server's kernel
            in_kernel_seconds(kc)  # warm: the same imports in the reference kernel
            mcp_s, direct_s = [], []
            for _ in range(calls):
                started = time.perf_counter()
                result = await client.call_tool(TOOL, ARGS)
                mcp_s.append(time.perf_counter() - started)
                assert not result.is_error, result.content
                direct_s.append(in_kernel_seconds(kc))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    mcp_ms, direct_ms = statistics.median(mcp_s) * 1e3, statistics.median(direct_s) * 1e3
    print(f"{calls} calls of {TOOL}, alternating")
    print(f"  through kenkyu mcp (stdio, SDK client): median {mcp_ms:.1f} ms")
    print(f"  the same call in a kernel directly:     median {direct_ms:.1f} ms")
    overhead = mcp_ms - direct_ms
    print(f"  overhead per call: {overhead:.1f} ms (goal ≤ 50 ms: {'met' if overhead <= 50 else 'MISSED'})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30)
    anyio.run(main, parser.parse_args().calls)
