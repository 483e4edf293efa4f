"""The LLM offline backend: the paper's four LLM steps through persona4rec.llm, one request per unit.

Each batch method renders the domain's prompt file for every unit, asks with the task's answer model
and semantic check, and returns one UnitResult per unit (value, or error + the last raw answer). The
checks pydantic cannot express are fed back to the model on retry like schema errors:
  personas: the count is within bounds (exactly 1 in single mode or for an item with one review,
            else 2..max_personas), ids are unique, evidence names only reviews that were shown;
  judge:    the picked id is one of the offered persona ids (also an enum in the wire schema).
LLMUnavailable and BudgetExceeded propagate so the stage runner can stop and resume later; every
answer already received is in the workspace's response cache, so the resume does not ask again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from ..llm.cache import ResponseCache
from ..llm.client import LLMClient, Request
from ..llm.config import LLMConfig
from ..llm.prompts import load_prompt
from ..llm.schemas import map_string_nodes, wire_schema
from ..llm.usage import Usage
from ..workspace import Workspace
from .backend import AlignmentRequest, ItemInput, PersonaRequest, ReviewInput, UnitResult
from .schema import MAX_PERSONAS, MIN_PERSONAS, AspectTuple, ItemSummary, Persona, PersonaSelection, PersonaSet

# Characters of each input shown to the model: bounds the prompt of an unusually long review or description.
MAX_TEXT_CHARS = 1500
MAX_PROFILE_SUMMARY_CHARS = 300
MAX_SUMMARY_SOURCE_REVIEWS = 5
MAX_POOL_REVIEWS = 40  # aspect tuples shown per item for persona generation (the first ones, in pool order)

# Completion tokens per request: the cap (unless the config sets max_tokens) and the typical answer size a
# dry run assumes. The typical sizes are the mean length (characters / 4) of the paper authors' own
# gpt-4o-mini answers (../shared/data/persona4rec-authors-sample, amazon / yelp, 50 each) re-shaped into
# our JSON answers: aspects 179/201, summary 81/170, personas 764/973 (6.0/6.5 personas of 128/149 each),
# judge 120/150. The caps leave room for the longest answers the prompts allow.
TASK_MAX_TOKENS = {"summarize": 300, "aspects": 600, "personas": 2000, "personas_single": 500, "align": 300}
TYPICAL_COMPLETION_TOKENS = {"summarize": 125, "aspects": 190, "personas": 870, "personas_single": 150, "align": 135}
# Longest string (characters) each answer field may have, written into the wire schema as maxLength so a
# grammar-constrained server (llama.cpp) cannot ramble; OpenAI's strict mode drops it. Sized above the
# longest fields of the authors' answers in that sample: summary 1043 characters, aspect field 249,
# persona field 393, judge reasoning 673.
TASK_MAX_FIELD_CHARS = {"summarize": 1200, "aspects": 300, "personas": 500, "personas_single": 700, "align": 800}


class EvidencedPersona(Persona):
    evidence: list[int] = Field(default_factory=list, description="numbers of the reviews it is built from (R2 -> 2)")


class PersonaAnswer(BaseModel):
    """What the persona prompt asks for; stored as a PersonaSet plus evidence by review key."""

    model_config = ConfigDict(extra="ignore")
    personas: list[EvidencedPersona] = Field(min_length=1, max_length=MAX_PERSONAS)


class EvidencedPersonaSet(PersonaSet):
    """A PersonaSet with, per persona id, the keys ("user|item") of the reviews it cites."""

    evidence: dict[str, list[str]] = Field(default_factory=dict)


def persona_bounds(request: PersonaRequest) -> tuple[int, int]:
    """How many personas an item may get: one in single mode or from a single review, else 2..max."""
    if request.single or len(request.reviews) <= 1 or request.max_personas <= 1:
        return 1, 1
    return MIN_PERSONAS, max(MIN_PERSONAS, request.max_personas)


class LLMBackend:
    def __init__(
        self, ws: Workspace | None, llm_config: LLMConfig, domain: str = "generic", *, cache=None, budget=None
    ):
        """`cache` and `budget` default to the workspace's response cache and a budget of the config's
        max_cost; a Ray worker, which has no workspace, passes the driver's (offline/ray_engine.py)."""
        load_prompt(domain, "summarize")  # an unknown domain fails here, before any work
        self.ws = ws
        self.config = llm_config
        self.domain = domain
        if cache is None:
            cache = ResponseCache(ws.llm_cache_path)
        self.client = LLMClient(llm_config, cache, budget=budget)
        self.name = self.client.name
        self.batch_size = 4 * llm_config.concurrency

    # -- the four tasks ------------------------------------------------------------------------
    def summarize(self, items: Sequence[ItemInput]) -> list[UnitResult[ItemSummary]]:
        requests = [self._request("summarize", ItemSummary, self._summary_fields(item)) for item in items]
        return self._run([item.item_id for item in items], requests)

    def extract_aspects(self, reviews: Sequence[ReviewInput]) -> list[UnitResult[AspectTuple]]:
        requests = [self._request("aspects", AspectTuple, self._aspect_fields(review)) for review in reviews]
        return self._run([review.key for review in reviews], requests)

    def generate_personas(self, requests: Sequence[PersonaRequest]) -> list[UnitResult[PersonaSet]]:
        results = self._run([r.item_id for r in requests], [self._persona_request(r) for r in requests])
        for request, result in zip(requests, results):
            if result.ok:
                result.value = _as_persona_set(result.value, request)
        return results

    def align(self, requests: Sequence[AlignmentRequest]) -> list[UnitResult[PersonaSelection]]:
        return self._run([r.key for r in requests], [self._judge_request(r) for r in requests])

    def estimate(self, task: str, inputs: Sequence) -> Usage:
        """Dry-run usage of `task` over `inputs`: the real prompts are rendered and their tokens estimated
        (characters / 4); completions are assumed to be of typical size. Nothing is sent."""
        builders = {
            "summarize": lambda x: self._request("summarize", ItemSummary, self._summary_fields(x)),
            "aspects": lambda x: self._request("aspects", AspectTuple, self._aspect_fields(x)),
            "personas": self._persona_request,
            "align": self._judge_request,
        }
        if task not in builders:
            raise ValueError(f"unknown task '{task}' (expected one of {', '.join(builders)})")
        prompts = [builders[task](x).messages for x in inputs]
        if task == "personas":  # one-persona items answer shorter
            usage = Usage()
            for single in (True, False):
                chosen = [p for p, x in zip(prompts, inputs) if (persona_bounds(x) == (1, 1)) == single]
                typical = TYPICAL_COMPLETION_TOKENS["personas_single" if single else "personas"]
                usage.add(self.client.estimate(chosen, typical))
            return usage
        return self.client.estimate(prompts, TYPICAL_COMPLETION_TOKENS[task])

    # -- requests ------------------------------------------------------------------------------
    def _request(
        self,
        task: str,
        schema: type[BaseModel],
        fields: dict,
        *,
        check=None,
        wire: dict | None = None,
        cap_task: str | None = None,
    ) -> Request:
        wire = bound_strings(
            wire or wire_schema(schema), self.config.max_field_chars or TASK_MAX_FIELD_CHARS[cap_task or task]
        )
        messages = load_prompt(self.domain, task).render(schema=json.dumps(wire, separators=(",", ":")), **fields)
        return Request(
            messages=messages,
            schema=schema,
            check=check,
            wire=wire,
            max_tokens=self.config.max_tokens or TASK_MAX_TOKENS[cap_task or task],
        )

    def _persona_request(self, request: PersonaRequest) -> Request:
        low, high = persona_bounds(request)
        shown = min(len(request.reviews), MAX_POOL_REVIEWS)
        wire = wire_schema(PersonaAnswer)
        wire["properties"]["personas"].update(minItems=low, maxItems=high)
        # Ids and evidence numbers are labels the prompt defines: offer exactly those.
        persona = wire["$defs"]["EvidencedPersona"]["properties"]
        persona["id"] = {"type": "string", "enum": [f"P{k}" for k in range(1, high + 1)]}
        persona["evidence"] = (
            {"type": "array", "items": {"type": "integer", "enum": list(range(1, shown + 1))}, "maxItems": shown}
            if shown
            else {"type": "array", "items": {"type": "integer"}, "maxItems": 0}
        )
        task = "personas_single" if request.single else "personas"
        fields = {
            "title": request.item_title or request.item_id,
            "summary": _clip(request.summary),
            "reviews": _numbered_aspects(request),
            "min_personas": low,
            "max_personas": high,
        }
        return self._request(
            task,
            PersonaAnswer,
            fields,
            check=_persona_check(low, high, shown),
            wire=wire,
            cap_task="personas_single" if high == 1 else "personas",
        )

    def _judge_request(self, request: AlignmentRequest) -> Request:
        ids = [p.id for p in request.personas]
        wire = wire_schema(PersonaSelection)
        wire["properties"]["persona_id"] = {"type": "string", "enum": ids}
        fields = {
            "title": request.item_title or request.item_id,
            "profile": _profile_lines(request),
            "personas": "\n".join(
                f"{p.id}: {p.name}. {_clip(p.description, 400)} Why: {_clip(p.preference_rationale, 400)}"
                for p in request.personas
            ),
        }
        return self._request("judge", PersonaSelection, fields, check=_judge_check(ids), wire=wire, cap_task="align")

    @staticmethod
    def _summary_fields(item: ItemInput) -> dict:
        lines = []
        if item.description.strip():
            lines.append(f"Description: {_clip(item.description)}")
        if item.categories:
            lines.append(f"Categories: {' > '.join(item.categories)}")
        for key, value in list(item.attributes.items())[:15]:
            lines.append(f"{key}: {_clip(str(value), 200)}")
        if lines:
            return {"title": item.title or item.item_id, "source_label": "Metadata", "source_text": "\n".join(lines)}
        if item.review_texts:
            texts = [f"- {_clip(t, 400)}" for t in item.review_texts[:MAX_SUMMARY_SOURCE_REVIEWS]]
            return {
                "title": item.title or item.item_id,
                "source_label": "Customer reviews (no metadata is available)",
                "source_text": "\n".join(texts),
            }
        return {
            "title": item.title or item.item_id,
            "source_label": "Metadata",
            "source_text": "(none: describe only what the title says)",
        }

    @staticmethod
    def _aspect_fields(review: ReviewInput) -> dict:
        rating = "unknown" if review.rating is None else f"{review.rating:g} of 5"
        return {
            "item_title": review.item_title or review.item_id,
            "rating": rating,
            "review_title": _clip(review.title, 200),
            "review_text": _clip(review.text),
        }

    # -- running -------------------------------------------------------------------------------
    def _run(self, keys: list[str], requests: list[Request]) -> list[UnitResult]:
        completions = self.client.complete_many(requests)
        return [
            UnitResult(key=key, value=c.value, error=c.error, raw=c.raw, usage=c.usage)
            for key, c in zip(keys, completions)
        ]


def bound_strings(schema, limit: int):
    """`schema` with maxLength=`limit` on every free-text string (ids given as an enum stay as they are)."""
    return map_string_nodes(schema, lambda node: node if "enum" in node else {"maxLength": limit, **node})


# -- checks pydantic cannot express -------------------------------------------------------------


def _persona_check(low: int, high: int, n_reviews: int):
    def check(answer: PersonaAnswer) -> str | None:
        n = len(answer.personas)
        if not low <= n <= high:
            wanted = f"exactly {low}" if low == high else f"between {low} and {high}"
            return f"give {wanted} persona(s), not {n}"
        ids = [p.id for p in answer.personas]
        if len(set(ids)) != len(ids):
            return f"persona ids must be unique, got {ids}"
        bad = sorted({e for p in answer.personas for e in p.evidence if not 1 <= e <= n_reviews})
        if bad:
            return f"evidence may only name reviews R1..R{n_reviews}, got {bad}"
        return None

    return check


def _judge_check(ids: list[str]):
    def check(selection: PersonaSelection) -> str | None:
        if selection.persona_id not in ids:
            return f"persona_id must be one of {ids}, got {selection.persona_id!r}"
        return None

    return check


# -- formatting ---------------------------------------------------------------------------------


def _clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _numbered_aspects(request: PersonaRequest) -> str:
    if not request.aspects:
        return "(no review evidence)"
    lines = []
    pool = list(zip(request.reviews, request.aspects))[:MAX_POOL_REVIEWS]
    for n, (review, aspects) in enumerate(pool, start=1):
        rating = "" if review.rating is None else f" (rated {review.rating:g}/5)"
        lines.append(f"R{n}{rating}: {_clip(aspects.as_text(), 600)}")
    return "\n".join(lines)


def _profile_lines(request: AlignmentRequest) -> str:
    if not request.profile:
        return "(no earlier history)"
    lines = []
    for n, entry in enumerate(request.profile, start=1):
        cared = entry.aspects.as_text() if entry.aspects is not None else "no review text"
        lines.append(f"{n}. {_clip(entry.summary, MAX_PROFILE_SUMMARY_CHARS)} | cared about: {_clip(cared, 400)}")
    return "\n".join(lines)


def _as_persona_set(answer: PersonaAnswer, request: PersonaRequest) -> EvidencedPersonaSet:
    personas = [
        Persona(id=p.id, name=p.name, description=p.description, preference_rationale=p.preference_rationale)
        for p in answer.personas
    ]
    evidence = {
        p.id: [request.reviews[e - 1].key for e in dict.fromkeys(p.evidence)] for p in answer.personas if p.evidence
    }
    return EvidencedPersonaSet(personas=personas, evidence=evidence)
