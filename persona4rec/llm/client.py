"""LLMClient: structured answers from any OpenAI-compatible chat server.

One request = chat messages + a pydantic answer model (+ an optional semantic check). The client
1. looks the request up in the response cache (a hit costs nothing and is counted as `cached_calls`);
2. checks the budget: a call whose worst case (estimated prompt + `max_tokens` completion) would take the
   spend past `max_cost` raises BudgetExceeded before anything is sent;
3. asks the server for JSON, with `response_format` `json_schema` (OpenAI) or `json_object` + `schema`
   (llama.cpp's server); "auto" uses json_schema for OpenAI's API and otherwise probes the server once;
4. retries transport failures (429, 408/409, 5xx, timeouts, refused connections) with exponential backoff
   and jitter (at least what a Retry-After header asks, up to backoff_max), `max_retries` times,
   then raises LLMUnavailable (the openai package's own retries are off, so these are the only ones);
5. parses and validates the answer; an invalid one is sent back with the validation error and the model
   is asked again, `validation_retries` times; after that the request fails with the last raw answer.

Usage counts only what the server reported for calls it answered; cache hits add no tokens and no cost.
Every answer is cached, invalid ones too, so a replay is exact and free. Hence `--retry-failed` with
unchanged settings replays the same invalid answers at no cost; to get new ones, change what the request
depends on (model, temperature, max_tokens) or raise validation_retries (attempts beyond the cached
ones go to the server).
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import BudgetExceeded, LLMUnavailable
from .cache import ResponseCache, request_key
from .config import LLMConfig
from .pricing import Price, price_for
from .schemas import clamp_max_length, for_openai, wire_schema
from .usage import Usage

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
Check = Callable[[BaseModel], str | None]  # semantic check: an error message, or None when fine

CHARS_PER_TOKEN = 4  # tokenizer-free estimate used for budgets and dry runs
MESSAGE_OVERHEAD_TOKENS = 4  # role and separators per chat message
_RETRYABLE_STATUS = (408, 409, 429)
DEFAULT_MAX_TOKENS = 1024  # when neither the request nor the config sets a cap
FEEDBACK = (
    "Your answer was not valid: {error}\nAnswer again with one JSON object that matches the schema, and nothing else."
)


@dataclass
class Request:
    messages: list[dict]
    schema: type[BaseModel]
    check: Check | None = None
    max_tokens: int | None = None  # None: the config's max_tokens
    wire: dict | None = None  # schema sent to the server, when it differs from `schema`'s


@dataclass
class Completion(Generic[M]):
    value: M | None
    error: str | None = None
    raw: str | None = None
    usage: Usage = field(default_factory=Usage)
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.value is not None


class Budget:
    """--max-cost: what the server has billed and the worst case of the calls in flight. A call whose worst
    case would take the total past the limit is refused before it is sent. One client owns one by default;
    the Ray engine (offline/ray_engine.py) hosts one in an actor that every worker's client shares, so the
    limit holds for the whole run and not per worker."""

    def __init__(self, limit: float | None):
        self.limit = limit
        self.spent = 0.0  # USD the server has billed
        self._reserved = 0.0  # worst-case USD of calls in flight
        self._lock = threading.Lock()

    def reserve(self, worst: float) -> None:
        with self._lock:
            if self.limit is not None and self.spent + self._reserved + worst > self.limit:
                raise BudgetExceeded(
                    f"the next call could cost up to ${worst:.6f} (its prompt estimate + a completion of max_tokens); "
                    f"spent ${self.spent:.6f} of --max-cost ${self.limit:.6f}"
                )
            self._reserved += worst

    def release(self, worst: float) -> None:
        with self._lock:
            self._reserved -= worst

    def charge(self, cost: float) -> None:
        with self._lock:
            self.spent += cost


class RequestRejected(Exception):
    """The server refused this one request (a 4xx other than 429): a per-unit failure, not an outage."""


def estimate_tokens(messages: Sequence[dict]) -> int:
    """Prompt tokens of `messages`, estimated as characters / 4 (no tokenizer: an estimate, not a count)."""
    return sum(len(m.get("content") or "") // CHARS_PER_TOKEN + MESSAGE_OVERHEAD_TOKENS for m in messages)


def parse_answer(raw: str, schema: type[M], check: Check | None = None) -> tuple[M | None, str | None]:
    """(value, None) for a valid answer, else (None, a short error the model can act on)."""
    text = _strip_fences(raw or "")
    if not text:
        return None, "the answer was empty"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at character {exc.pos}); the answer may have been cut off"
    try:
        value = schema.model_validate(data)
    except ValidationError as exc:
        return None, "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors())
    problem = check(value) if check is not None else None
    return (None, problem) if problem else (value, None)


def _strip_fences(text: str) -> str:
    match = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    return (match.group(1) if match else text).strip()


class LLMClient:
    def __init__(
        self,
        config: LLMConfig,
        cache: ResponseCache | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        budget: Budget | None = None,
    ):
        self.config = config
        self.cache = cache  # anything with ResponseCache's get/put
        self.budget = budget if budget is not None else Budget(config.max_cost)
        self.price: Price = price_for(config.model, config.base_url, config.prices)
        self._sleep = sleep
        self._format: str | None = None if config.response_format == "auto" else config.response_format
        self._format_lock = threading.Lock()
        self._openai = None
        self._halt = threading.Event()

    @property
    def name(self) -> str:
        return f"llm:{self.config.model}"

    @property
    def spent_usd(self) -> float:
        return self.budget.spent

    @property
    def response_format(self) -> str | None:
        """The protocol in use ("json_schema" / "json_object"), None until auto-detection has run."""
        return self._format

    # -- public --------------------------------------------------------------------------------
    def complete(
        self,
        messages: list[dict],
        schema: type[M],
        *,
        check: Check | None = None,
        max_tokens: int | None = None,
        wire: dict | None = None,
    ) -> Completion[M]:
        """Ask until the answer validates (at most 1 + validation_retries times). Raises LLMUnavailable
        and BudgetExceeded; every other problem is a failed Completion carrying the raw answer."""
        usage = Usage()
        messages = list(messages)
        raw, error = None, None
        attempts = 1 + self.config.validation_retries
        for attempt in range(1, attempts + 1):
            try:
                raw, call_usage = self._ask(
                    messages, schema, wire, max_tokens or self.config.max_tokens or DEFAULT_MAX_TOKENS
                )
            except RequestRejected as exc:
                return Completion(
                    None, error=f"the server rejected the request: {exc}", raw=raw, usage=usage, attempts=attempt
                )
            usage.add(call_usage)
            value, error = parse_answer(raw, schema, check)
            if value is not None:
                return Completion(value, raw=raw, usage=usage, attempts=attempt)
            log.debug("invalid answer (attempt %d/%d): %s", attempt, attempts, error)
            messages = messages + [
                {"role": "assistant", "content": raw},
                {"role": "user", "content": FEEDBACK.format(error=error)},
            ]
        return Completion(
            None, error=f"invalid answer after {attempts} attempt(s): {error}", raw=raw, usage=usage, attempts=attempts
        )

    def complete_many(self, requests: Sequence[Request]) -> list[Completion]:
        """`complete` over many requests with `concurrency` in flight; results in request order.

        LLMUnavailable / BudgetExceeded from any request stops the rest (requests not yet sent are not
        sent; those in flight finish and land in the cache) and is raised after the pool has drained."""
        self._halt.clear()

        def one(request: Request) -> Completion:
            if self._halt.is_set():
                return Completion(None, error="not run: the batch was stopped")
            try:
                return self.complete(
                    request.messages,
                    request.schema,
                    check=request.check,
                    max_tokens=request.max_tokens,
                    wire=request.wire,
                )
            except (LLMUnavailable, BudgetExceeded):
                self._halt.set()
                raise

        if self.config.concurrency == 1 or len(requests) <= 1:
            return [one(r) for r in requests]
        with ThreadPoolExecutor(max_workers=self.config.concurrency, thread_name_prefix="llm") as pool:
            futures = [pool.submit(one, r) for r in requests]
            results, fatal = [], None
            for future in futures:
                try:
                    results.append(future.result())
                except (LLMUnavailable, BudgetExceeded) as exc:
                    fatal = fatal or exc
        if fatal is not None:
            raise fatal
        return results

    def estimate(self, prompts: Sequence[list[dict]], completion_tokens: int) -> Usage:
        """Dry-run usage: one call per prompt, prompt tokens estimated from the text (chars / 4),
        `completion_tokens` per call (a typical answer size), priced with the model's price."""
        prompt_tokens = sum(estimate_tokens(m) for m in prompts)
        completion = completion_tokens * len(prompts)
        return Usage(
            calls=len(prompts),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion,
            cost_usd=self.price.cost(prompt_tokens, completion),
        )

    # -- one request ---------------------------------------------------------------------------
    def _ask(
        self, messages: list[dict], schema: type[BaseModel], wire: dict | None, max_tokens: int
    ) -> tuple[str, Usage]:
        logical = wire or wire_schema(schema)
        params = {"temperature": self.config.temperature, "max_tokens": max_tokens}
        key = request_key(self.config.model, messages, params, logical)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return hit.raw, Usage(cached_calls=1)
        worst = self.price.cost(estimate_tokens(messages), max_tokens)
        self.budget.reserve(worst)
        try:
            fmt, usage = self._resolve_format()
            response_format = self._response_format(fmt, schema, logical)
            raw, prompt_tokens, completion_tokens = self._post(messages, params, response_format)
            cost = self.price.cost(prompt_tokens, completion_tokens)
        finally:
            self.budget.release(worst)
        self.budget.charge(cost)
        if self.cache is not None:
            self.cache.put(key, self.config.model, raw, prompt_tokens, completion_tokens)
        usage.add(Usage(calls=1, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, cost_usd=cost))
        return raw, usage

    def _response_format(self, fmt: str, schema: type[BaseModel], logical: dict) -> dict:
        if fmt == "json_schema":
            strict = for_openai(logical)
            return {"type": "json_schema", "json_schema": {"name": schema.__name__, "schema": strict, "strict": True}}
        return {"type": "json_object", "schema": clamp_max_length(logical, GRAMMAR_MAX_LENGTH)}

    # -- the wire ------------------------------------------------------------------------------
    def _client(self):
        if self._openai is None:
            from openai import OpenAI

            self._openai = OpenAI(
                base_url=self.config.base_url,
                api_key=self.config.api_key or "none",
                timeout=self.config.timeout,
                max_retries=0,
            )
        return self._openai

    def _post(self, messages: list[dict], params: dict, response_format: dict) -> tuple[str, int, int]:
        import openai

        last: Exception | None = None
        asked_wait = 0.0
        for attempt in range(self.config.max_retries + 1):
            if attempt:
                self._sleep(max(self._backoff(attempt), min(asked_wait, self.config.backoff_max)))
            try:
                response = self._client().chat.completions.create(
                    model=self.config.model, messages=messages, response_format=response_format, **params
                )
            except (openai.APIConnectionError, openai.APITimeoutError) as exc:  # timeout subclasses connection
                last, asked_wait = exc, 0.0
                continue
            except openai.APIStatusError as exc:
                if exc.status_code in _RETRYABLE_STATUS or exc.status_code >= 500:
                    last, asked_wait = exc, _retry_after(exc)
                    continue
                raise RequestRejected(f"HTTP {exc.status_code}: {_short(exc)}") from exc
            choice = response.choices[0] if response.choices else None
            raw = (choice.message.content if choice is not None else None) or ""
            usage = response.usage
            return raw, int(getattr(usage, "prompt_tokens", 0) or 0), int(getattr(usage, "completion_tokens", 0) or 0)
        raise LLMUnavailable(
            f"{self.config.base_url or 'OpenAI API'} did not answer after "
            f"{self.config.max_retries + 1} attempt(s): {type(last).__name__}: {_short(last)}"
        )

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: uniform in [0.5, 1] x base x 2^(attempt-1), capped."""
        delay = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempt - 1))
        return delay * random.uniform(0.5, 1.0)

    def _resolve_format(self) -> tuple[str, Usage]:
        """The structured-output protocol; in auto mode decided once, by a one-token probe where needed."""
        if self._format is not None:
            return self._format, Usage()
        with self._format_lock:
            if self._format is not None:
                return self._format, Usage()
            base = self.config.base_url or ""
            if not base or "api.openai.com" in base:
                self._format = "json_schema"
                return self._format, Usage()
            self._format, usage = self._probe()
            log.info("%s: structured output via %s", base, self._format)
            return self._format, usage

    def _probe(self) -> tuple[str, Usage]:
        """Send a one-token request with a json_schema response format: accepted -> json_schema;
        refused with an HTTP error (llama.cpp answers 500/422 naming the field) -> json_object."""
        import openai

        schema = {
            "type": "object",
            "properties": {"ok": {"type": "boolean"}},
            "required": ["ok"],
            "additionalProperties": False,
        }
        fmt = {"type": "json_schema", "json_schema": {"name": "probe", "schema": schema, "strict": True}}
        messages = [{"role": "user", "content": 'Answer {"ok": true}'}]
        for attempt in range(self.config.max_retries + 1):
            if attempt:
                self._sleep(self._backoff(attempt))
            try:
                response = self._client().chat.completions.create(
                    model=self.config.model, messages=messages, response_format=fmt, max_tokens=1, temperature=0
                )
            except (openai.APIConnectionError, openai.APITimeoutError) as exc:
                last = exc
                continue
            except openai.APIStatusError as exc:
                if exc.status_code in _RETRYABLE_STATUS:
                    last = exc
                    continue
                return "json_object", Usage()
            u = response.usage
            pt, ct = int(getattr(u, "prompt_tokens", 0) or 0), int(getattr(u, "completion_tokens", 0) or 0)
            cost = self.price.cost(pt, ct)
            self.budget.charge(cost)
            return "json_schema", Usage(calls=1, prompt_tokens=pt, completion_tokens=ct, cost_usd=cost)
        raise LLMUnavailable(
            f"{self.config.base_url} did not answer the format probe after "
            f"{self.config.max_retries + 1} attempt(s): {type(last).__name__}: {_short(last)}"
        )


def _retry_after(exc) -> float:
    """Seconds a 429/503 answer asks us to wait (its Retry-After header), 0 when it does not say."""
    try:
        return max(0.0, float(exc.response.headers.get("retry-after", 0)))
    except (AttributeError, TypeError, ValueError):
        return 0.0


def _short(exc: Exception | None, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "..."


# llama.cpp's server turns a json_object schema into a grammar, and a string's maxLength into that many
# nested optional repetitions; past its repetition threshold the grammar fails to parse and the server
# process dies (llama-cpp-python 0.3.36 with SmolLM2: maxLength 1000 works, 1100 kills it). Clamp below it.
GRAMMAR_MAX_LENGTH = 1000
