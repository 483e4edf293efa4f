"""LLMConfig: which server and model, how hard to try, and what it may cost.

Sources, lowest first: the defaults below, `[llm]` in a TOML file, PERSONA4REC_LLM_<FIELD> variables,
command-line flags (`add_llm_arguments`). The usual OPENAI_BASE_URL / OPENAI_API_KEY variables fill
`base_url` / `api_key` when nothing else did. The key is never written to manifests (`public_dict`).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import dataclass, field

from ..config import load_config
from ..errors import ConfigError

RESPONSE_FORMATS = ("auto", "json_schema", "json_object")


@dataclass
class LLMConfig:
    base_url: str | None = None  # None: OPENAI_BASE_URL, else OpenAI's API
    model: str = "gpt-4o-mini"  # the paper's model
    api_key: str | None = None  # None: OPENAI_API_KEY ("none" is sent to keyless local servers)
    concurrency: int = 4  # requests in flight at once
    max_retries: int = 5  # transport retries (429, 5xx, timeouts, connection errors)
    validation_retries: int = 2  # re-asks with the validation error fed back, per unit
    timeout: float = 120.0  # seconds per request
    temperature: float = 0.0
    max_tokens: int | None = None  # completion cap per request; None: the task's own cap
    response_format: str = "auto"  # auto | json_schema (OpenAI) | json_object (+schema, llama.cpp)
    max_field_chars: int | None = None  # cap on each free-text answer field (schema maxLength); None: per task
    max_cost: float | None = None  # USD; the call that would pass it raises BudgetExceeded
    backoff_base: float = 1.0  # seconds before the first transport retry, doubled each time
    backoff_max: float = 30.0
    prices: dict = field(default_factory=dict)  # {model: [USD per 1M input, per 1M output]} over the defaults

    def __post_init__(self) -> None:
        if self.base_url is None and os.environ.get("OPENAI_BASE_URL"):
            self.base_url = os.environ["OPENAI_BASE_URL"]
        if self.api_key is None and os.environ.get("OPENAI_API_KEY"):
            self.api_key = os.environ["OPENAI_API_KEY"]
        self.validate()

    def validate(self) -> None:
        if self.response_format not in RESPONSE_FORMATS:
            raise ConfigError(
                f"llm response_format must be one of {', '.join(RESPONSE_FORMATS)}, got '{self.response_format}'"
            )
        if self.max_field_chars is not None and self.max_field_chars < 1:
            raise ConfigError(f"llm max_field_chars must be at least 1, got {self.max_field_chars}")
        for name in ("concurrency", "max_tokens"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ConfigError(f"llm {name} must be at least 1, got {getattr(self, name)}")
        for name in ("max_retries", "validation_retries"):
            if getattr(self, name) < 0:
                raise ConfigError(f"llm {name} must not be negative, got {getattr(self, name)}")
        if self.max_cost is not None and self.max_cost < 0:
            raise ConfigError(f"llm max_cost must not be negative, got {self.max_cost}")
        if self.timeout <= 0:
            raise ConfigError(f"llm timeout must be positive, got {self.timeout}")

    def public_dict(self) -> dict:
        """For manifests and logs: everything but the key."""
        data = dataclasses.asdict(self)
        data["api_key"] = "***" if self.api_key else None
        return data


def add_llm_arguments(parser: argparse.ArgumentParser) -> None:
    """The LLM flags every LLM-driven command shares (all default to "not given")."""
    group = parser.add_argument_group("LLM backend")
    group.add_argument("--llm-config", metavar="TOML", help="TOML file with an [llm] section")
    group.add_argument("--base-url", help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL, else OpenAI)")
    group.add_argument("--model", help="model name (default gpt-4o-mini)")
    group.add_argument("--concurrency", type=int, help="requests in flight at once (default 4)")
    group.add_argument("--max-retries", type=int, help="transport retries with backoff (default 5)")
    group.add_argument("--validation-retries", type=int, help="re-asks after an invalid answer (default 2)")
    group.add_argument("--timeout", type=float, help="seconds per request (default 120)")
    group.add_argument("--temperature", type=float, help="sampling temperature (default 0)")
    group.add_argument("--max-tokens", type=int, help="completion token cap per request (default: per task)")
    group.add_argument(
        "--response-format",
        choices=RESPONSE_FORMATS,
        help="structured-output protocol (default auto: probe the server once)",
    )
    group.add_argument("--max-field-chars", type=int, help="cap on each free-text answer field (default per task)")
    group.add_argument("--max-cost", type=float, metavar="USD", help="stop cleanly before spending more")
    group.add_argument("--price", metavar="IN,OUT", help="USD per 1M input,output tokens for --model")


def llm_config_from_args(args: argparse.Namespace) -> LLMConfig:
    names = (
        "base_url",
        "model",
        "concurrency",
        "max_retries",
        "validation_retries",
        "timeout",
        "temperature",
        "max_tokens",
        "response_format",
        "max_field_chars",
        "max_cost",
    )
    overrides = {name: getattr(args, name, None) for name in names}
    config = load_config(LLMConfig, section="llm", path=getattr(args, "llm_config", None), overrides=overrides)
    price = getattr(args, "price", None)
    if price:
        try:
            inp, out = (float(x) for x in price.split(","))
        except ValueError:
            raise ConfigError(f"--price must be IN,OUT in USD per 1M tokens, e.g. 0.15,0.60; got '{price}'") from None
        config.prices = {**config.prices, config.model: [inp, out]}
    config.validate()
    return config
