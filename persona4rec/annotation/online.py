"""The `online_llm` study system: a rationale written at request time by the LLM client for this user and
item (the paper's costly online alternative to reading the winning persona from the index).

Answers go through LLMClient, so they are cached in the workspace's llm_cache.sqlite, retried, budgeted and
schema-checked like every offline call. The server and model come from the usual LLM configuration
(OPENAI_BASE_URL / PERSONA4REC_LLM_* / [llm] in a TOML file). The prompt carries what the annotator is
shown (the example's history, annotation/history.py) and the item's title and summary; the study builder
(annotation/examples.py) hands them over, so this module reads no workspace tables itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from string import Template
from typing import Any

from pydantic import BaseModel, Field

from ..workspace import Workspace

# Kept beside the code that fills it (the LLM package's prompt files cover the offline tasks only).
SYSTEM = (
    "You explain to a shopper, in 2-3 sentences, why a recommended product fits them, using only "
    "their history and the product's description. You answer with one JSON object and nothing else."
)
USER = Template("""Answer with one JSON object matching this schema:
$schema

The shopper's recent history (oldest first): product, rating, and what their review said:
$history

Recommended product: $title
What it is: $summary

Write the rationale: why this shopper would like this product, citing their history.""")
MAX_RATIONALE_CHARS = 600


class OnlineRationale(BaseModel):
    rationale: str = Field(min_length=1, max_length=MAX_RATIONALE_CHARS)


def llm_configured(environ: dict[str, str] | None = None) -> bool:
    """Whether an LLM server is configured (the study page offers `online_llm` only then)."""
    environ = os.environ if environ is None else environ
    return any(environ.get(v) for v in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "PERSONA4REC_LLM_BASE_URL"))


def history_line(entry: Mapping[str, Any]) -> str:
    """One shown-history entry (annotation/history.py) as a prompt line: product, rating, review."""
    review = ". ".join(part for part in (entry.get("review_title"), entry.get("review")) if part)
    rating = entry.get("rating")
    product = f"{entry['title']} (rated {rating:g})" if rating is not None else entry["title"]
    return f"- {product}: {review}"


def rationale_messages(history: Sequence[Mapping[str, Any]], title: str, summary: str) -> list[dict]:
    """The chat messages asking for a rationale: the history the annotator is shown, the item's title and
    summary."""
    from ..llm.schemas import wire_schema

    return [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": USER.substitute(
                schema=json.dumps(wire_schema(OnlineRationale), separators=(",", ":")),
                history="\n".join(history_line(entry) for entry in history) or "(none)",
                title=title,
                summary=summary or title,
            ),
        },
    ]


class OnlineExplainer:
    """Writes one rationale per (user, item) through the LLM client; "" when the answer stays invalid."""

    def __init__(self, ws: Workspace, config=None):
        from ..config import load_config
        from ..llm.cache import ResponseCache
        from ..llm.client import LLMClient
        from ..llm.config import LLMConfig

        config = config or load_config(LLMConfig, section="llm")
        self.client = LLMClient(config, cache=ResponseCache(ws.llm_cache_path))
        self.failures: list[str] = []

    @property
    def name(self) -> str:
        return self.client.name

    def explain(self, history: Sequence[Mapping[str, Any]], title: str, summary: str, key: str = "") -> str:
        """A rationale for recommending the item (`title`, `summary`) after `history`; `key` names the pair
        in `failures` when the answer stays invalid."""
        completion = self.client.complete(rationale_messages(history, title, summary), OnlineRationale)
        if not completion.ok:
            self.failures.append(f"{key or title}: {completion.error}")
            return ""
        return completion.value.rationale.strip()
