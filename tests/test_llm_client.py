"""The LLM client's parts that need no model: config, prices, prompts, wire schemas, the response cache,
answer parsing, transport retries against real sockets (a closed port; a stdlib server that answers
429/503 before it answers), the budget check and dry-run estimates."""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from persona4rec.errors import BudgetExceeded, ConfigError, LLMUnavailable
from persona4rec.llm.cache import ResponseCache, request_key
from persona4rec.llm.client import LLMClient, estimate_tokens, parse_answer
from persona4rec.llm.config import LLMConfig, add_llm_arguments, llm_config_from_args
from persona4rec.llm.pricing import price_for
from persona4rec.llm.prompts import DOMAINS, TASKS, load_prompt
from persona4rec.llm.schemas import for_openai, wire_schema
from persona4rec.offline.schema import AspectTuple, ItemSummary, PersonaSelection


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: connections are refused


# -- config and prices -----------------------------------------------------------------------------


def test_config_reads_openai_environment_and_flags(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("PERSONA4REC_LLM_CONCURRENCY", "3")
    parser = argparse.ArgumentParser()
    add_llm_arguments(parser)
    config = llm_config_from_args(parser.parse_args(["--model", "gpt-4o", "--max-cost", "2.5", "--price", "1,2"]))
    assert (config.base_url, config.api_key, config.model, config.concurrency) == (
        "http://127.0.0.1:9/v1",
        "sk-test",
        "gpt-4o",
        3,
    )
    assert config.max_cost == 2.5 and config.prices["gpt-4o"] == [1.0, 2.0]
    assert config.public_dict()["api_key"] == "***"
    assert LLMConfig().model == "gpt-4o-mini"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"response_format": "xml"}, "response_format"),
        ({"concurrency": 0}, "concurrency"),
        ({"max_cost": -1.0}, "max_cost"),
    ],
)
def test_config_rejects_bad_values(changes, field):
    with pytest.raises(ConfigError, match=field):
        LLMConfig(**changes)


def test_prices():
    assert price_for("gpt-4o-mini", None).cost(1_000_000, 1_000_000) == pytest.approx(0.75)
    assert price_for("gpt-4o-mini-2024-07-18", None).input_per_million == 0.15  # dated snapshot
    assert price_for("whatever", "http://localhost:8080/v1").cost(10**6, 10**6) == 0  # local server
    assert price_for("mine", "http://127.0.0.1/v1", {"mine": [3, 4]}).output_per_million == 4
    with pytest.raises(ConfigError, match="--price"):
        price_for("unknown-paid-model", "https://api.example.com/v1")


# -- prompts and schemas ---------------------------------------------------------------------------


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("task", TASKS)
def test_every_prompt_file_renders_with_the_schema(domain, task):
    fields = {
        name: f"<{name}>"
        for name in (
            "title",
            "source_label",
            "source_text",
            "item_title",
            "rating",
            "review_title",
            "review_text",
            "summary",
            "reviews",
            "min_personas",
            "max_personas",
            "profile",
            "personas",
        )
    }
    messages = load_prompt(domain, task).render(schema='{"SCHEMA": 1}', **fields)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert '{"SCHEMA": 1}' in messages[1]["content"] and "$" not in messages[1]["content"]


def test_prompt_errors_name_the_problem():
    with pytest.raises(ConfigError, match="unknown prompt domain"):
        load_prompt("movies", "aspects")
    with pytest.raises(ConfigError, match=r"aspects\.md: placeholder \$"):
        load_prompt("generic", "aspects").render(schema="{}")


def test_wire_schema_requires_every_slot_and_openai_variant_drops_lengths():
    schema = wire_schema(AspectTuple)
    assert schema["required"] == list(schema["properties"]) and len(schema["required"]) == 8
    assert schema["additionalProperties"] is False and "title" not in schema
    strict = for_openai({**wire_schema(ItemSummary), "properties": {"summary": {"type": "string", "maxLength": 9}}})
    assert strict["properties"]["summary"] == {"type": "string"}


def test_parse_answer_reports_what_is_wrong():
    assert parse_answer('```json\n{"summary": "A capo."}\n```', ItemSummary)[0].summary == "A capo."
    assert "not valid JSON" in parse_answer('{"summary": "cut', ItemSummary)[1]
    assert "summary" in parse_answer('{"text": "x"}', ItemSummary)[1]
    value, error = parse_answer(
        '{"persona_id": "P9", "justification": "j"}',
        PersonaSelection,
        check=lambda v: None if v.persona_id in ("P1", "P2") else "pick P1 or P2",
    )
    assert value is None and error == "pick P1 or P2"


# -- the cache -------------------------------------------------------------------------------------


def test_cache_survives_reopening_and_keys_on_everything(tmp_path):
    messages = [{"role": "user", "content": "hi"}]
    key = request_key("m", messages, {"temperature": 0}, {"type": "object"})
    assert key != request_key("m2", messages, {"temperature": 0}, {"type": "object"})
    assert key != request_key("m", messages, {"temperature": 0.5}, {"type": "object"})
    assert key != request_key("m", [{"role": "user", "content": "hi!"}], {"temperature": 0}, {"type": "object"})
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.put(key, "m", '{"a": 1}', 10, 3)
    cache.close()
    again = ResponseCache(tmp_path / "c.sqlite")
    hit = again.get(key)
    assert (hit.raw, hit.prompt_tokens, hit.completion_tokens) == ('{"a": 1}', 10, 3) and len(again) == 1
    assert again._db().execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_cache_hit_costs_nothing_and_never_touches_the_network(tmp_path):
    config = LLMConfig(
        base_url=f"http://127.0.0.1:{closed_port()}/v1",
        model="m",
        response_format="json_object",
        prices={"m": [1, 1]},
        max_retries=0,
    )
    cache = ResponseCache(tmp_path / "c.sqlite")
    client = LLMClient(config, cache)
    messages = [{"role": "user", "content": "summarise"}]
    key = request_key("m", messages, {"temperature": 0.0, "max_tokens": 1024}, wire_schema(ItemSummary))
    cache.put(key, "m", '{"summary": "cached"}', 5, 5)
    done = client.complete(messages, ItemSummary)
    assert done.value.summary == "cached"
    assert (done.usage.calls, done.usage.cached_calls, done.usage.cost_usd) == (0, 1, 0.0)


# -- transport retries and the budget --------------------------------------------------------------


def test_unreachable_server_raises_llm_unavailable_after_bounded_backoff():
    delays = []
    client = LLMClient(
        LLMConfig(
            base_url=f"http://127.0.0.1:{closed_port()}/v1",
            model="m",
            max_retries=3,
            response_format="json_object",
            backoff_base=0.5,
            backoff_max=1.0,
        ),
        sleep=delays.append,
    )
    with pytest.raises(LLMUnavailable, match="after 4 attempt"):
        client.complete([{"role": "user", "content": "x"}], ItemSummary)
    assert len(delays) == 3  # one wait before each retry
    assert 0.25 <= delays[0] <= 0.5 and 0.5 <= delays[1] <= 1.0 and 0.5 <= delays[2] <= 1.0  # doubled, jittered, capped


class _Scripted(BaseHTTPRequestHandler):
    """Answers the statuses in `script` in turn, then a valid chat completion."""

    script: list[int] = []
    bodies: list[dict] = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        status = type(self).script.pop(0) if type(self).script else 200
        payload = (
            {"error": {"message": "busy"}}
            if status != 200
            else {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": '{"summary": "A tuner."}'},
                    }
                ],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
            }
        )
        data = json.dumps(payload).encode()
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "7")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def scripted_server():
    _Scripted.script, _Scripted.bodies = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_429_and_5xx_are_retried_by_us_only(scripted_server, tmp_path):
    _Scripted.script = [429, 503]
    delays = []
    config = LLMConfig(
        base_url=scripted_server,
        model="m",
        response_format="json_object",
        max_retries=2,
        prices={"m": [1000, 2000]},
        backoff_base=0.1,
        backoff_max=5.0,
    )
    done = LLMClient(config, ResponseCache(tmp_path / "c.sqlite"), sleep=delays.append).complete(
        [{"role": "user", "content": "x"}], ItemSummary
    )
    assert done.value.summary == "A tuner." and len(_Scripted.bodies) == 3 and len(delays) == 2
    assert delays[0] == 5.0 and delays[1] <= 0.2  # Retry-After: 7 honoured up to backoff_max; 503 says nothing
    assert (done.usage.calls, done.usage.prompt_tokens, done.usage.completion_tokens) == (1, 100, 20)
    assert done.usage.cost_usd == pytest.approx((100 * 1000 + 20 * 2000) / 1e6)
    assert _Scripted.bodies[0]["response_format"]["type"] == "json_object"


def test_auto_format_uses_json_schema_where_the_server_accepts_it(scripted_server, tmp_path):
    client = LLMClient(
        LLMConfig(base_url=scripted_server, model="m", prices={"m": [0, 0]}), ResponseCache(tmp_path / "c.sqlite")
    )
    assert client.complete([{"role": "user", "content": "x"}], ItemSummary).ok
    probe, real = _Scripted.bodies
    assert probe["max_tokens"] == 1 and probe["response_format"]["type"] == "json_schema"
    assert real["response_format"]["type"] == "json_schema" and real["response_format"]["json_schema"]["strict"]
    assert client.response_format == "json_schema"


def test_budget_is_checked_before_the_call(scripted_server, tmp_path):
    config = LLMConfig(
        base_url=scripted_server,
        model="m",
        response_format="json_object",
        max_tokens=100,
        prices={"m": [1000, 2000]},
        max_cost=0.0005,
    )
    client = LLMClient(config, ResponseCache(tmp_path / "c.sqlite"))
    with pytest.raises(BudgetExceeded, match="max-cost"):
        client.complete([{"role": "user", "content": "x" * 400}], ItemSummary)
    assert _Scripted.bodies == []  # nothing was sent


def test_estimate_counts_calls_and_prices_tokens():
    client = LLMClient(LLMConfig(model="gpt-4o-mini", base_url=None))
    prompts = [[{"role": "user", "content": "x" * 400}]] * 10
    usage = client.estimate(prompts, completion_tokens=50)
    assert usage.calls == 10 and usage.prompt_tokens == 10 * estimate_tokens(prompts[0]) == 10 * 104
    assert usage.cost_usd == pytest.approx((1040 * 0.15 + 500 * 0.60) / 1e6)


def test_json_object_schemas_keep_max_length_within_the_grammar_limit():
    from persona4rec.llm.client import GRAMMAR_MAX_LENGTH
    from persona4rec.llm.schemas import clamp_max_length

    schema = {
        "type": "object",
        "properties": {
            "long": {"type": "string", "maxLength": 5000},
            "short": {"type": "string", "maxLength": 20},
            "free": {"type": "string"},
            "list": {"type": "array", "items": {"type": "string", "maxLength": 1200}},
        },
    }
    out = clamp_max_length(schema, GRAMMAR_MAX_LENGTH)
    props = out["properties"]
    assert props["long"]["maxLength"] == GRAMMAR_MAX_LENGTH and props["short"]["maxLength"] == 20
    assert "maxLength" not in props["free"] and props["list"]["items"]["maxLength"] == GRAMMAR_MAX_LENGTH
    assert schema["properties"]["long"]["maxLength"] == 5000  # a copy: the caller's schema is untouched
