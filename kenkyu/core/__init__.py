"""The core every layer may import: the tool registry, messages, provider configuration and clients,
routing for small models, secrets redaction and the declarations tools make about their science.

Nothing here imports :mod:`kenkyu.tools` or :mod:`kenkyu.assistant`: the domain tools build on the
core, and the agent builds on both (the contract in ``.importlinter`` keeps it so).
"""
