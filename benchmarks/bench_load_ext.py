"""Time `%load_ext kenkyu` in fresh kernels, against a stock IPython extension in the same kernels.

Goal: 1 s or less. Prints the median over several fresh kernels and the ratio to the reference
(`%load_ext autoreload`, which every IPython has), so the number means the same on any machine.
"""

from __future__ import annotations

import statistics
import sys
import time

from jupyter_client.manager import start_new_kernel

KERNELS = 5


def timed(client, code: str) -> float:
    started = time.perf_counter()
    reply = client.execute_interactive(code, timeout=60, output_hook=lambda msg: None)
    elapsed = time.perf_counter() - started
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"{code!r} failed: {reply['content']}")
    return elapsed


def main() -> int:
    ours, reference = [], []
    for _ in range(KERNELS):
        manager, client = start_new_kernel(kernel_name="python3")
        try:
            timed(client, "pass")  # the kernel is up and answering
            reference.append(timed(client, "%load_ext autoreload"))
            ours.append(timed(client, "%load_ext kenkyu"))
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    median, ref = statistics.median(ours), statistics.median(reference)
    print(
        f"%load_ext kenkyu   : median {median * 1000:7.1f} ms over {KERNELS} fresh kernels "
        f"(max {max(ours) * 1000:.1f} ms)"
    )
    print(f"%load_ext autoreload: median {ref * 1000:7.1f} ms (reference, same kernels)")
    print(f"ratio kenkyu/reference: {median / ref:.2f}")
    print(f"goal <= 1000 ms: {'met' if median <= 1.0 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
