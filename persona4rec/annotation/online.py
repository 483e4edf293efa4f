"""The `online_llm` study system: a rationale written at request time by the LLM client for this user and
item (the paper's costly online alternative to reading the winning persona from the index).

Answers go through LLMClient, so they are cached in the workspace's llm_cache.sqlite, retried, budgeted and
schema-checked like every offline call. The server and model come from the usual LLM configuration
(OPENAI_BASE_URL / PERSONA4REC_LLM_* / [llm] in a TOML file).
"""

from __future__ import annotations

import json
import os
from string import Template

from pydantic import BaseModel, Field

from ..views.catalogue import Catalogue
from ..views.explore import user_history
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
HISTORY_ITEMS = 5
MAX_RATIONALE_CHARS = 600


class OnlineRationale(BaseModel):
    rationale: str = Field(min_length=1, max_length=MAX_RATIONALE_CHARS)


def llm_configured(environ: dict[str, str] | None = None) -> bool:
    """Whether an LLM server is configured (the study page offers `online_llm` only then)."""
    environ = os.environ if environ is None else environ
    return any(environ.get(v) for v in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "PERSONA4REC_LLM_BASE_URL"))


def rationale_messages(cat: Catalogue, user_id: str, item_id: str, split: str = "test") -> list[dict]:
    from ..llm.schemas import wire_schema

    history = user_history(cat, user_id, split).tail(HISTORY_ITEMS)
    lines = [
        f"- {t} (rated {r:g}): {v}" if r == r else f"- {t}: {v}"
        for t, r, v in zip(history["title"], history["rating"], history["review"])
    ]
    summary = cat.summaries.get(item_id)
    return [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": USER.substitute(
                schema=json.dumps(wire_schema(OnlineRationale), separators=(",", ":")),
                history="\n".join(lines) or "(none)",
                title=cat.title(item_id),
                summary=summary.summary if summary else cat.title(item_id),
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

    def explain(self, cat: Catalogue, user_id: str, item_id: str, split: str = "test") -> str:
        completion = self.client.complete(rationale_messages(cat, user_id, item_id, split), OnlineRationale)
        if not completion.ok:
            self.failures.append(f"{user_id}|{item_id}: {completion.error}")
            return ""
        return completion.value.rationale.strip()
