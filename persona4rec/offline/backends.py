"""Choosing an offline backend by name: "extractive" (no LLM, the default) or "llm" (any OpenAI-compatible
server). The LLM backend is imported only when asked for, so the no-LLM path never needs it."""

from __future__ import annotations

from ..errors import ConfigError
from ..workspace import Workspace

BACKENDS = ("extractive", "llm")


def make_backend(ws: Workspace, name: str = "extractive", llm_config=None, encoder=None, domain: str = "generic"):
    """An OfflineBackend for `ws`.

    extractive: deterministic sentence assignment and clustering with `encoder` (None = the bundled
                all-MiniLM-L6-v2); its records are labelled "extractive:<encoder>".
    llm:        persona4rec.offline.llm_backend.LLMBackend(ws, llm_config, domain); `llm_config` None means
                the defaults (environment variables included) of persona4rec.llm.config.LLMConfig.
    """
    if name == "extractive":
        from .extractive import ExtractiveBackend

        return ExtractiveBackend(encoder=encoder, domain=domain)
    if name == "llm":
        try:
            from .llm_backend import LLMBackend
        except ImportError as exc:
            raise ConfigError(f"the LLM backend is not available ({exc})") from exc
        if llm_config is None:
            from ..config import load_config
            from ..llm.config import LLMConfig

            llm_config = load_config(LLMConfig, section="llm")
        return LLMBackend(ws, llm_config, domain)
    raise ConfigError(f"unknown offline backend '{name}' (choose from {', '.join(BACKENDS)})")
