"""The tool registry: a tool is a typed Python function with a docstring.

Marking a function with :func:`tool` costs nothing at import time; the JSON schema the LLM sees is
derived from the signature (through pydantic) only when a registry is built. The same function is
what a scientist calls by hand and what an action cell calls, so the notebook record is plain
Python that re-runs without the agent.
"""

from __future__ import annotations

import importlib
import inspect
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from kenkyu.core.science import Science, declare, remember, science_of, tool_name

Approval = Literal["auto", "ask"]

_MARK = "__kenkyu_tool__"


@dataclass(frozen=True)
class ToolSpec:
    """What a tool author declares with the decorator."""

    approval: Approval = "auto"
    writes_files: bool = False
    name: str | None = None
    result_name: str | None = None
    keywords: tuple[str, ...] = ()


def tool(
    function: Callable | None = None,
    *,
    approval: Approval = "auto",
    writes_files: bool = False,
    name: str | None = None,
    result_name: str | None = None,
    keywords: tuple[str, ...] = (),
    produces: str | None = None,
):
    """Mark a public function as an agent tool.

    Parameters
    ----------
    approval
        ``"auto"`` runs without asking; ``"ask"`` needs the user's approval first (use it for
        anything expensive or that writes outside the run directory).
    writes_files
        Whether the tool creates files; shown to the user with the approval request.
    name
        The name the LLM sees; defaults to ``<module>_<function>``, e.g. ``md_run``.
    result_name
        The variable an action cell assigns the result to; defaults to the function name.
    keywords
        Extra words that help the router match requests phrased differently from the docstring.
    produces
        What the result is (``"run_folder"``, ``"table"``, ``"figure"``, ``"answer"``, ``"view"``, ...; see
        :mod:`kenkyu.core.science`, whose decorators declare the rest: output folder, cost, checks).
    """
    if approval not in ("auto", "ask"):
        raise ValueError(f"approval must be 'auto' or 'ask', not {approval!r}")
    spec = ToolSpec(approval, writes_files, name, result_name, tuple(keywords))

    def mark(fn: Callable) -> Callable:
        setattr(fn, _MARK, spec)
        if produces is not None:
            declare(fn, produces=produces)
        remember(fn, tool_name(fn, name))
        return fn

    return mark(function) if function is not None else mark


@dataclass
class Tool:
    """A registered tool: the function plus everything the agent and the codegen need."""

    name: str
    function: Callable
    module: str
    description: str
    parameters: dict
    approval: Approval
    writes_files: bool
    result_name: str
    keywords: tuple[str, ...] = ()
    _validator: Any = field(default=None, repr=False)

    @property
    def science(self) -> Science:
        """What the tool declares for planning and checking; read at call time, since the declaring
        decorators may sit above ``@tool``."""
        return science_of(self.function)

    @property
    def defined_in_notebook(self) -> bool:
        return self.module == "__main__"

    @property
    def qualified_call(self) -> str:
        """The public dotted path an action cell calls, e.g. ``kenkyu.tools.md.run``; a function
        defined in the notebook itself is called by its plain name."""
        if self.defined_in_notebook:
            return self.function.__name__
        return f"{self.module}.{self.function.__name__}"

    @property
    def summary(self) -> str:
        return self.description.strip().split("\n\n")[0].replace("\n", " ")

    def llm_schema(self) -> dict:
        """The provider-neutral function schema (name, description, JSON-schema parameters)."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    def validate(self, arguments: dict) -> dict:
        """Check and coerce the LLM's arguments; raise ``ToolArgumentError`` with a readable reason."""
        import pydantic

        if not isinstance(arguments, dict):
            raise ToolArgumentError(f"{self.name}: arguments must be a JSON object, got {type(arguments).__name__}")
        unknown = set(arguments) - set(self.parameters.get("properties", {}))
        if unknown:
            raise ToolArgumentError(
                f"{self.name}: unknown argument(s) {sorted(unknown)}; "
                f"expected some of {sorted(self.parameters.get('properties', {}))}"
            )
        try:
            model = self._validator.model_validate(arguments)
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}" for err in exc.errors()
            )
            raise ToolArgumentError(f"{self.name}: {problems}") from None
        # Keep only what the model passed explicitly: defaults stay the function's business, so the
        # action cell shows exactly the choices that were made.
        return {key: getattr(model, key) for key in arguments}


class ToolArgumentError(ValueError):
    """The LLM asked for a tool with arguments that do not fit its signature."""


class ToolRegistry:
    """The tools the agent may call, by name."""

    def __init__(self, tools: typing.Iterable[Tool] = ()):
        self._tools: dict[str, Tool] = {}
        self.unavailable: dict[str, str] = {}
        for t in tools:
            self.add(t)

    def add(self, t: Tool) -> None:
        if t.name in self._tools and self._tools[t.name].function is not t.function:
            raise ValueError(
                f"two tools are named {t.name!r}: {self._tools[t.name].qualified_call} and {t.qualified_call}"
            )
        self._tools[t.name] = t

    def __getitem__(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            raise KeyError(f"no tool named {name!r}; available: {', '.join(sorted(self._tools))}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._tools

    def __iter__(self):
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        return sorted(self._tools)

    def with_functions(self, functions: typing.Iterable[Callable]) -> "ToolRegistry":
        """A copy that also holds these marked functions (e.g. ``@kenkyu.tool`` defs in the notebook)."""
        extended = ToolRegistry(self)
        extended.unavailable = dict(self.unavailable)
        for fn in functions:
            extended.add(build_tool(fn))
        return extended

    @classmethod
    def from_modules(cls, modules: typing.Iterable[str]) -> "ToolRegistry":
        """Import each module and collect its marked functions.

        A module whose optional dependencies are missing is recorded in ``unavailable`` with the
        reason, instead of failing the whole registry: a scientist without OpenMM can still ask
        literature questions.
        """
        registry = cls()
        for module_name in modules:
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                registry.unavailable[module_name] = (
                    f"{exc} (install the matching extra, e.g. pip install 'kenkyu[all]')"
                )
                continue
            for t in tools_in_module(module):
                registry.add(t)
        return registry

    def table(self) -> str:
        """A Markdown table of the tools, for ``%kenkyu tools``."""
        rows = ["| tool | call | approval | writes files | what it does |", "|---|---|---|---|---|"]
        for t in sorted(self, key=lambda t: t.name):
            rows.append(
                f"| `{t.name}` | `{t.qualified_call}` | {t.approval} | {'yes' if t.writes_files else 'no'} "
                f"| {t.summary} |"
            )
        for module, why in sorted(self.unavailable.items()):
            rows.append(f"| — | `{module}` | — | — | unavailable: {why} |")
        return "\n".join(rows)


def is_tool(value) -> bool:
    return callable(value) and getattr(value, _MARK, None) is not None


def name_of(function: Callable) -> str:
    """The name the agent knows a tool function by (``kenkyu.tools.md.run`` -> ``md_run``)."""
    spec = getattr(function, _MARK, None)
    return tool_name(function, spec.name if spec is not None else None)


def tools_in_module(module) -> list[Tool]:
    found = []
    for attr in sorted(vars(module)):
        fn = getattr(module, attr)
        spec = getattr(fn, _MARK, None)
        if spec is None or getattr(fn, "__module__", None) != module.__name__:
            continue
        found.append(build_tool(fn, spec))
    return found


def build_tool(fn: Callable, spec: ToolSpec | None = None) -> Tool:
    """Derive a :class:`Tool` (schema, validator, description) from a function's signature and docstring."""
    import docstring_parser
    import pydantic

    spec = spec or getattr(fn, _MARK, ToolSpec())
    module = fn.__module__
    name = tool_name(fn, spec.name)
    doc = docstring_parser.parse(inspect.getdoc(fn) or "")
    if not doc.short_description:
        raise ValueError(f"tool {module}.{fn.__name__} needs a docstring: the LLM reads it to decide when to call it")
    param_docs = {p.arg_name: (p.description or "").strip() for p in doc.params}
    description = doc.short_description + (f"\n\n{doc.long_description}" if doc.long_description else "")

    hints = typing.get_type_hints(fn, include_extras=True)
    fields: dict[str, Any] = {}
    for pname, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or pname.startswith("_"):
            continue
        annotation = _schemable(hints.get(pname, Any))
        default = ... if param.default is param.empty else param.default
        fields[pname] = (annotation, pydantic.Field(default=default, description=param_docs.get(pname) or None))

    validator = pydantic.create_model(
        f"{name}_arguments", __config__=pydantic.ConfigDict(arbitrary_types_allowed=True, extra="forbid"), **fields
    )
    schema = _strip_titles(validator.model_json_schema())
    schema.pop("additionalProperties", None)
    return Tool(
        name=name,
        function=fn,
        module=module,
        description=description,
        parameters=schema,
        approval=spec.approval,
        writes_files=spec.writes_files,
        # A notebook-defined function would be shadowed by a variable of its own name.
        result_name=spec.result_name or (f"{fn.__name__}_result" if module == "__main__" else fn.__name__),
        keywords=spec.keywords,
        _validator=validator,
    )


def _schemable(annotation):
    """Reduce an annotation to what JSON can carry.

    Tools accept rich objects when called by hand (an ``mdtraj.Trajectory``, an OpenMM topology);
    the LLM can only send JSON, so such union members are dropped from the schema it sees.
    """
    import pydantic

    def ok(tp) -> bool:
        try:
            pydantic.TypeAdapter(tp).json_schema()
            return True
        except Exception:
            return False

    args = typing.get_args(annotation)
    is_union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    if is_union:
        kept = [a for a in args if ok(a)]
        if kept and all(_is_stringlike(a) for a in kept if a is not type(None)):
            # str | os.PathLike | Path: one string for the LLM (the function still accepts all three).
            return str | None if type(None) in kept else str
        if kept and len(kept) < len(args):
            return typing.Union[tuple(kept)] if len(kept) > 1 else kept[0]
    if ok(annotation):
        return annotation
    return str


def _is_stringlike(tp) -> bool:
    import os
    import pathlib

    return (
        tp is str
        or tp is os.PathLike
        or (isinstance(tp, type) and issubclass(tp, pathlib.PurePath))
        or typing.get_origin(tp) is os.PathLike
    )


def _strip_titles(schema):
    if isinstance(schema, dict):
        return {k: _strip_titles(v) for k, v in schema.items() if k != "title" or not isinstance(v, str)}
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema
