"""USD per 1M input / output tokens, per model, and the cost of a call.

The defaults are OpenAI's list prices for the models the paper and users are likely to pick (checked by
hand; override them in config, `[llm] prices = {"model" = [in, out]}`, or with `--price IN,OUT`).
Models served locally (llama.cpp, Ollama, vLLM on your machine) cost 0: a model not in the table is
priced 0 when the endpoint is local and is an error otherwise, so a dry run never shows $0 for a paid
model by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from ..errors import ConfigError


@dataclass(frozen=True)
class Price:
    input_per_million: float
    output_per_million: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million) / 1e6


FREE = Price(0.0, 0.0)

DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1": (2.00, 8.00),
}

_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "0.0.0.0")


def is_local_endpoint(base_url: str | None) -> bool:
    if not base_url:
        return False
    host = urlparse(base_url).hostname or ""
    return host in _LOCAL_HOSTS or host.endswith(".local")


def price_table(overrides: dict | None = None) -> dict[str, Price]:
    """The default table with `overrides` ({model: [in, out]}) on top."""
    table = {model: Price(*pair) for model, pair in DEFAULT_PRICES.items()}
    for model, pair in (overrides or {}).items():
        try:
            inp, out = (float(x) for x in pair)
        except (TypeError, ValueError):
            raise ConfigError(
                f"price of model '{model}' must be [input, output] USD per 1M tokens, got {pair!r}"
            ) from None
        if inp < 0 or out < 0:
            raise ConfigError(f"price of model '{model}' must not be negative, got {pair!r}")
        table[model] = Price(inp, out)
    return table


def price_for(model: str, base_url: str | None, overrides: dict | None = None) -> Price:
    table = price_table(overrides)
    if model in table:
        return table[model]
    # Dated snapshots ("gpt-4o-mini-2024-07-18") cost what their family costs.
    for name in sorted(table, key=len, reverse=True):
        if model.startswith(name + "-"):
            return table[name]
    if is_local_endpoint(base_url):
        return FREE
    raise ConfigError(
        f"no price known for model '{model}' at {base_url or 'api.openai.com'}; "
        f"give one with --price IN,OUT (USD per 1M tokens; 0,0 for a free server)"
    )
