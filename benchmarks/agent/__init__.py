"""kenkyu's agent benchmark: MD tasks asked in %%ask, each checked on the notebook it leaves.

``python benchmarks/agent/run.py --help`` runs it; ``tasks.toml`` holds the tasks and ``replay/``
the correct tool calls for each (the mechanics, with no model).
"""
