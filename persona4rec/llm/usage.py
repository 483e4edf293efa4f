"""What LLM work cost: calls answered by the server or the cache, tokens and USD. One type for the client,
the offline backends (the extractive one reports zero) and the stage reports that add them up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Usage:
    calls: int = 0  # requests the server answered
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_calls: int = 0  # requests answered from the response cache
    cost_usd: float = 0.0

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.cached_calls += other.cached_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd
