"""The research protocols the loop can follow, in one place.

``stability`` ("does the fold hold", :mod:`.stability`) is built in and is the default: a plan or a
Check cell that names no protocol follows it, so reports exported before protocols existed re-run
unchanged. Another protocol is an addition, not an edit of the loop:

- in a notebook or a test: ``register_protocol(MyProtocol())``;
- from a package: an entry point in the ``kenkyu.protocols`` group whose object is a
  :class:`~.base.Protocol` instance (or a class to instantiate), loaded on first use.

A question a protocol ``claims`` from its words is planned by that protocol's ``plan_steps``; otherwise
the request is routed and the plan follows the first protocol whose ``matches(question, tools)`` is true,
else the default.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points

from kenkyu.assistant.protocols.base import (
    MissingInput,
    NextPlan,
    ProposedStep,
    Protocol,
    name_of,
    produces,
    reasons,
    tools_in,
)

DEFAULT_PROTOCOL = "stability"
ENTRY_POINT_GROUP = "kenkyu.protocols"

_registered: dict[str, Protocol] = {}
_loaded = False


def register_protocol(protocol: Protocol) -> Protocol:
    """Make a protocol available by its name (a later one of the same name replaces it); returns it."""
    if isinstance(protocol, type):
        protocol = protocol()
    if not isinstance(protocol, Protocol) or not protocol.name:
        raise TypeError(f"{protocol!r} is not a named kenkyu.assistant.protocols.Protocol")
    _registered[protocol.name] = protocol
    return protocol


def unregister_protocol(name: str) -> None:
    _registered.pop(name, None)


def _load() -> None:
    """The built-in protocol, then those packages declare as entry points (once per process)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from kenkyu.assistant.protocols.stability import STABILITY
    from kenkyu.assistant.protocols.thermal_unfolding import THERMAL_UNFOLDING

    _registered.setdefault(STABILITY.name, STABILITY)
    _registered.setdefault(THERMAL_UNFOLDING.name, THERMAL_UNFOLDING)
    from kenkyu.assistant.protocols.mutation_effect import MUTATION_EFFECT

    _registered.setdefault(MUTATION_EFFECT.name, MUTATION_EFFECT)
    from kenkyu.assistant.protocols.predicted_check import PREDICTED_CHECK

    _registered.setdefault(PREDICTED_CHECK.name, PREDICTED_CHECK)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            register_protocol(entry.load())
        except Exception as exc:  # a broken plug-in must not take the research loop down with it
            warnings.warn(f"kenkyu: research protocol {entry.name!r} ({entry.value}) did not load: {exc}", stacklevel=2)


def protocols() -> list[Protocol]:
    """The registered protocols, the default first."""
    _load()
    return sorted(_registered.values(), key=lambda p: p.name != DEFAULT_PROTOCOL)


def get_protocol(protocol: str | Protocol | None = None) -> Protocol:
    """A protocol by name (the default for None); a Protocol passes through."""
    if isinstance(protocol, Protocol):
        return protocol
    _load()
    name = protocol or DEFAULT_PROTOCOL
    try:
        return _registered[name]
    except KeyError:
        known = ", ".join(sorted(_registered))
        raise KeyError(f"no research protocol named {name!r}; registered: {known}") from None


def claiming_protocol(question: str) -> Protocol | None:
    """The protocol that claims a question from its words alone (see :meth:`Protocol.claims`), or None."""
    for protocol in protocols():
        if protocol.claims(question):
            return protocol
    return None


def choose_protocol(question: str, tools: set[str]) -> Protocol:
    """The protocol for a question whose plan uses these tools: the first that matches, else the default."""
    for protocol in protocols():
        if protocol.name != DEFAULT_PROTOCOL and protocol.matches(question, tools):
            return protocol
    return get_protocol(DEFAULT_PROTOCOL)


__all__ = [
    "DEFAULT_PROTOCOL",
    "MissingInput",
    "claiming_protocol",
    "ENTRY_POINT_GROUP",
    "NextPlan",
    "ProposedStep",
    "Protocol",
    "choose_protocol",
    "get_protocol",
    "name_of",
    "produces",
    "protocols",
    "reasons",
    "register_protocol",
    "tools_in",
    "unregister_protocol",
]
