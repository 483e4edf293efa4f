"""Persona4Rec: offline LLM reasoning for efficient, explainable recommendation.

Offline, personas are written per item (by an LLM or the extractive no-LLM backend); an encoder maps a
user's recent history near the persona that explains their choice; online, reranking is a
max-over-personas dot product and the winning persona is the explanation.

The public API, for notebooks and scripts:

    from persona4rec import Workspace, Reranker, build_all, load_config
    ws = Workspace.open("workspaces/demo")
    reranker = Reranker.from_workspace(ws)     # serves the config tuned on VALID (serving.json)
    ranked = reranker.rerank(user_id, candidate_ids)

Names are imported on first use, so `import persona4rec` (and the CLI's start-up) stays light: torch and
faiss load only when a reranker, encoder or index is made.
"""

from __future__ import annotations

from .lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "workspace": ("Workspace",),
    "config": ("load_config",),
    "pipeline": ("build_all", "BuildConfig"),
    "rerank": ("Reranker", "RankedItem", "ServingConfig"),
    "index.persona_index": ("PersonaIndex", "open_index", "build_index"),
    "encoder.user": ("UserEncoder",),
    "candidates.generate": ("candidate_lists", "load_candidates"),
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
