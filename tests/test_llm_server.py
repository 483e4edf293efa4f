"""The LLM path end to end against a REAL local server (llama.cpp + SmolLM2-135M), through the offline
stage runner. What is checked: the protocol (format probe, json_object + schema), schema enforcement,
retry with the validation error fed back, failures recorded with the raw answer, the response cache
(a re-run makes zero server calls, counted at the server side of the wire), resume after the server is
killed mid-stage, token/cost accounting, dry runs and --max-cost. Not persona quality: the model is tiny.

Kept cheap: four items, three reviews, short answer fields (max_field_chars), small max_tokens.
"""

from __future__ import annotations

import json

import pytest
from llm_server import CountingProxy, LlamaServer, find_model, free_port, server_killed_after, why_unavailable

pytestmark = [pytest.mark.llm_server, pytest.mark.slow]

MODEL = "smollm2-135m-test"
PRICE = [1000.0, 2000.0]  # USD per 1M tokens: made up, so that cost accounting has non-zero numbers to check

ITEMS = [
    ("A1", "Travel guitar", "A small steel-string acoustic guitar for travel.", ["Instruments", "Guitars"]),
    ("B2", "Guitar strap", "A padded leather strap.", ["Instruments", "Accessories"]),
    ("C3", "Capo", "A spring capo for six-string guitars.", ["Instruments", "Accessories"]),
    ("D4", "Tuner", "A clip-on chromatic tuner.", ["Instruments", "Accessories"]),
]
REVIEWS = [  # user, item, rating, title, text, timestamp
    ("u1", "A1", 5.0, "Great on trips", "I take it camping. Small and it stays in tune.", 1000),
    ("u2", "A1", 2.0, "Thin sound", "The sound is too thin for gigs.", 1500),
    ("u1", "B2", 4.0, "Comfy", "Comfortable for long sets.", 2000),
]


@pytest.fixture(scope="module")
def llm(tmp_path_factory):
    reason = why_unavailable()
    if reason:
        pytest.skip(reason)
    logs = tmp_path_factory.mktemp("llama")
    server = LlamaServer(find_model(), free_port(), logs / "server.log")
    server.start()
    proxy = CountingProxy(server.port).start()
    yield server, proxy
    proxy.stop()
    server.kill()


def tiny_workspace(root):
    import pandas as pd

    from persona4rec.data.schema import as_items, as_reviews, items_to_disk
    from persona4rec.io import write_parquet
    from persona4rec.workspace import Workspace

    with Workspace.create(root) as ws:
        items = as_items(
            pd.DataFrame(
                [
                    {"item_id": i, "title": t, "description": d, "categories": c, "attributes": {}}
                    for i, t, d, c in ITEMS
                ]
            )
        )
        reviews = as_reviews(
            pd.DataFrame(
                [
                    {"user_id": u, "item_id": i, "rating": r, "title": t, "text": x, "timestamp": ts}
                    for u, i, r, t, x, ts in REVIEWS
                ]
            )
        )
        split = reviews[["user_id", "item_id"]].assign(split="train")
        write_parquet(ws.data_dir / "items.parquet", items_to_disk(items))
        write_parquet(ws.data_dir / "reviews.parquet", reviews)
        write_parquet(ws.data_dir / "split.parquet", split)
    return Workspace.open(root)


def llm_config(proxy, **changes):
    from persona4rec.llm.config import LLMConfig

    settings = dict(
        base_url=proxy.base_url,
        model=MODEL,
        api_key="none",
        response_format="json_object",
        concurrency=1,
        max_retries=2,
        validation_retries=1,
        backoff_base=0.01,
        backoff_max=0.05,
        timeout=300,
        max_tokens=200,
        max_field_chars=40,
        prices={MODEL: PRICE},
    )
    settings.update(changes)
    return LLMConfig(**settings)


def backend_for(ws, proxy, **changes):
    from persona4rec.offline.llm_backend import LLMBackend

    return LLMBackend(ws, llm_config(proxy, **changes), "generic")


def total_usage(reports):
    from persona4rec.llm.usage import Usage

    usage = Usage()
    for report in reports:
        usage.add(report.usage)
    return usage


# -- the whole chain, then the cache ---------------------------------------------------------------


@pytest.fixture(scope="module")
def chain(llm, tmp_path_factory):
    """All five stages once, with format auto-detection and two requests in flight."""
    from persona4rec.offline.stages import run_all

    server, proxy = llm
    ws = tiny_workspace(tmp_path_factory.mktemp("chain") / "ws")
    backend = backend_for(ws, proxy, response_format="auto", concurrency=2)
    proxy.reset()
    reports = run_all(ws, backend, progress=False)
    return ws, backend, reports, list(proxy.exchanges)


def test_chain_completes_with_schema_valid_records(chain):
    from persona4rec.offline import records

    ws, backend, reports, _ = chain
    assert [r.stopped_reason for r in reports] == [None] * len(reports)
    assert backend.name == f"llm:{MODEL}"
    summaries = records.load_summaries(ws)
    assert set(summaries) == {i[0] for i in ITEMS}
    assert all(s.backend == backend.name and s.summary.strip() for s in summaries.values())
    aspects = records.load_aspects(ws)
    assert set(aspects) == {f"{u}|{i}" for u, i, *_ in REVIEWS}
    personas = records.load_personas(ws)
    assert set(personas) == {i[0] for i in ITEMS}
    for record in personas.values():
        assert 1 <= len(record.personas) <= 7
        kept_reviews = sum(1 for a in aspects.values() if a.item_id == record.item_id and a.kept)
        if kept_reviews == 1:
            assert len(record.personas) == 1  # one review -> exactly one persona
        if kept_reviews == 0:
            assert record.summary_only
        for persona_id, keys in record.evidence.items():
            assert persona_id in {p.id for p in record.personas}
            assert all(key.endswith(f"|{record.item_id}") for key in keys)
    alignment = records.load_alignment(ws)
    for record in alignment.values():
        assert record.persona_id in {p.id for p in personas[record.item_id].personas}
    failures = records.load_failures(ws)
    assert len(alignment) + sum(f.stage == "alignment" for f in failures) == len(REVIEWS) - sum(
        1 for u, i, *_ in REVIEWS if i not in personas
    )
    assert all(ws.stage_done(name) for name in ("summaries", "aspects", "personas", "profiles", "alignment"))


def test_protocol_probe_then_json_object_with_schema(chain):
    _, backend, _, exchanges = chain
    chats = [e for e in exchanges if e.path.endswith("/chat/completions")]
    probe, first = chats[0], chats[1]
    assert probe.request["response_format"]["type"] == "json_schema" and probe.status != 200
    assert backend.client.response_format == "json_object"
    assert all(e.request["response_format"]["type"] == "json_object" for e in chats[1:])
    schema = first.request["response_format"]["schema"]
    assert schema["required"] == ["summary"] and schema["additionalProperties"] is False
    assert json.dumps(schema, separators=(",", ":")) in first.request["messages"][1]["content"]  # schema in prompt


def test_tokens_and_cost_equal_what_the_server_reported(chain):
    _, backend, reports, exchanges = chain
    answered = [e for e in exchanges if e.path.endswith("/chat/completions") and e.status == 200]
    prompt = sum(e.response["usage"]["prompt_tokens"] for e in answered)
    completion = sum(e.response["usage"]["completion_tokens"] for e in answered)
    usage = total_usage(reports)
    assert usage.calls == len(answered) > 0
    assert (usage.prompt_tokens, usage.completion_tokens) == (prompt, completion)
    assert usage.cost_usd == pytest.approx((prompt * PRICE[0] + completion * PRICE[1]) / 1e6)
    assert usage.cached_calls == 0
    assert backend.client.spent_usd == pytest.approx(usage.cost_usd)


def test_rerun_makes_zero_server_calls(chain, llm):
    from persona4rec.offline.stages import run_all

    _, proxy = llm
    ws, _, first_reports, _ = chain
    first_calls = total_usage(first_reports).calls

    proxy.reset()
    again = run_all(ws, backend_for(ws, proxy, response_format="auto"), progress=False)
    assert proxy.exchanges == [] and total_usage(again).calls == 0

    # Records gone, cache kept: every unit is answered from llm_cache.sqlite, still without a call.
    for path in ws.offline_dir.glob("*.jsonl"):
        path.unlink()
    replay = run_all(ws, backend_for(ws, proxy, response_format="auto"), progress=False)
    assert proxy.exchanges == []
    usage = total_usage(replay)
    assert usage.calls == 0 and usage.cost_usd == 0 and usage.cached_calls == first_calls


# -- retries on invalid output ---------------------------------------------------------------------


def test_validation_error_is_fed_back_and_retries_are_bounded(llm, tmp_path):
    from persona4rec.llm.cache import ResponseCache
    from persona4rec.llm.client import LLMClient
    from persona4rec.llm.schemas import wire_schema
    from persona4rec.offline.llm_backend import bound_strings
    from persona4rec.offline.schema import ItemSummary

    _, proxy = llm
    client = LLMClient(llm_config(proxy, validation_retries=2), ResponseCache(tmp_path / "cache.sqlite"))
    messages = [{"role": "user", "content": "Describe a capo in one short sentence, as JSON."}]
    wire = bound_strings(wire_schema(ItemSummary), 60)
    seen = []

    def reject_first(value):
        seen.append(value.summary)
        return "the summary must name the instrument it is for" if len(seen) == 1 else None

    proxy.reset()
    done = client.complete(messages, ItemSummary, check=reject_first, wire=wire)
    assert done.ok and done.attempts == 2 and len(proxy.chats()) == 2
    retry = proxy.chats()[1].request["messages"]
    assert retry[-2] == {"role": "assistant", "content": proxy.chats()[0].response["choices"][0]["message"]["content"]}
    assert "the summary must name the instrument it is for" in retry[-1]["content"]

    proxy.reset()
    failed = client.complete(
        [{"role": "user", "content": "Name a guitar part, as JSON."}],
        ItemSummary,
        check=lambda value: "always wrong",
        wire=wire,
    )
    assert not failed.ok and failed.attempts == 3 and len(proxy.chats()) == 3  # 1 + validation_retries
    assert (
        "always wrong" in failed.error and failed.raw == proxy.chats()[-1].response["choices"][0]["message"]["content"]
    )
    assert failed.usage.calls == 3


def test_invalid_answers_become_failures_with_raw_and_the_stage_goes_on(llm, tmp_path):
    from persona4rec.offline import records
    from persona4rec.offline.stages import run_summaries

    _, proxy = llm
    ws = tiny_workspace(tmp_path / "ws")
    proxy.reset()
    report = run_summaries(ws, backend_for(ws, proxy, max_tokens=3), items=2, progress=False)  # cut-off JSON
    assert report.failed == 2 and report.done == 0 and report.stopped_reason is None
    assert len(proxy.chats()) == 2 * 2  # 1 + validation_retries each
    failures = records.load_failures(ws, "summaries")
    assert {f.key for f in failures} == {"A1", "B2"}
    assert all("not valid JSON" in f.reason and f.raw for f in failures)
    assert ws.stage_done("summaries")


# -- dry run and budget ----------------------------------------------------------------------------


def test_dry_run_estimates_without_any_call(llm, tmp_path):
    from persona4rec.offline.stages import run_summaries

    _, proxy = llm
    ws = tiny_workspace(tmp_path / "ws")
    proxy.reset()
    report = run_summaries(ws, backend_for(ws, proxy), dry_run=True, progress=False)
    assert proxy.exchanges == []
    assert report.usage.calls == len(ITEMS) and report.usage.prompt_tokens > 0
    assert report.usage.cost_usd == pytest.approx(
        (report.usage.prompt_tokens * PRICE[0] + report.usage.completion_tokens * PRICE[1]) / 1e6
    )
    assert not list(ws.offline_dir.glob("*.jsonl")) and ws.stage_info("summaries") is None
    assert not ws.llm_cache_path.exists()  # nothing written


def test_max_cost_stops_cleanly_before_the_call_that_would_pass_it(llm, tmp_path):
    from persona4rec.llm.client import estimate_tokens
    from persona4rec.offline import records
    from persona4rec.offline.schema import ItemSummary
    from persona4rec.offline.stages import run_summaries

    _, proxy = llm
    ws = tiny_workspace(tmp_path / "ws")
    probe = backend_for(ws, proxy)
    first = probe._request("summarize", ItemSummary, probe._summary_fields(_item_input("A1")))
    worst_first = probe.client.price.cost(estimate_tokens(first.messages), first.max_tokens)
    budget = worst_first + 1e-9  # room for the first call's worst case, not for a second one
    backend = backend_for(ws, proxy, max_cost=budget)
    proxy.reset()
    report = run_summaries(ws, backend, batch_size=1, progress=False)
    assert report.stopped_reason and report.stopped_reason.startswith("BudgetExceeded")
    assert len(proxy.chats()) == 1 and report.done == 1
    assert backend.client.spent_usd <= budget
    assert set(records.load_summaries(ws)) == {"A1"}
    assert ws.stage_info("summaries")["status"] == "stopped"
    assert records.load_failures(ws, "summaries") == []  # pending units are not failures


def _item_input(item_id):
    from persona4rec.offline.backend import ItemInput

    _, title, description, categories = next(i for i in ITEMS if i[0] == item_id)
    return ItemInput(item_id=item_id, title=title, description=description, categories=categories, attributes={})


# -- the server dies mid-stage ---------------------------------------------------------------------


def test_resume_after_the_server_is_killed_mid_stage(llm, tmp_path):
    from persona4rec.offline import records
    from persona4rec.offline.stages import run_summaries

    server, proxy = llm
    ws = tiny_workspace(tmp_path / "ws")
    proxy.reset()
    with server_killed_after(server, proxy, 3):
        stopped = run_summaries(ws, backend_for(ws, proxy), batch_size=2, progress=False)
    # Batch 1 (A1, B2) was persisted; C3 was answered (so it is in the cache) when the server died; D4 never was.
    assert stopped.stopped_reason and stopped.stopped_reason.startswith("LLMUnavailable")
    assert ws.stage_info("summaries")["status"] == "stopped"
    assert set(records.load_summaries(ws)) == {"A1", "B2"}
    assert records.load_failures(ws, "summaries") == []
    assert proxy.failed_forwards == 1 + 2  # the first try and max_retries=2 retries found no server
    answered_before = [e.request["messages"][1]["content"] for e in proxy.chats()]

    proxy.reset()
    resumed = run_summaries(ws, backend_for(ws, proxy), batch_size=2, progress=False)
    assert resumed.stopped_reason is None and resumed.done == 2 and resumed.skipped == 2
    asked = [e.request["messages"][1]["content"] for e in proxy.chats()]
    assert len(asked) == 1 and "Tuner" in asked[0]  # only the unit that never finished
    assert not set(asked) & set(answered_before)
    assert resumed.usage.cached_calls == 1 and resumed.usage.calls == 1
    assert set(records.load_summaries(ws)) == {i[0] for i in ITEMS}
    assert ws.stage_done("summaries")


def test_llm_check_cli_reports_protocol_and_usage(llm, capsys):
    from persona4rec.cli import main

    _, proxy = llm
    proxy.reset()
    code = main(["llm", "check", "--base-url", proxy.base_url, "--model", MODEL, "--price", "1000,2000"])
    out = capsys.readouterr().out
    assert "protocol: json_object" in out  # auto-detected: llama.cpp refuses json_schema
    prompt, completion = proxy.usage()
    assert 1 <= len(proxy.chats()) <= 3 and f"tokens={prompt}+{completion}" in out  # 1 + validation retries
    assert code == (0 if "answer:" in out else 1)


def test_default_field_caps_keep_the_server_alive(llm, tmp_path):
    """Without --max-field-chars each task's own cap applies (a summary may run to 1,200 characters). In
    json_object mode llama.cpp compiles maxLength into its grammar and dies past ~1,000 repetitions; the
    client clamps it, so the stage finishes and the server still answers afterwards."""
    from persona4rec.offline.stages import run_summaries

    server, proxy = llm
    ws = tiny_workspace(tmp_path / "ws")
    proxy.reset()
    report = run_summaries(ws, backend_for(ws, proxy, max_field_chars=None, max_tokens=48), progress=False)
    assert report.stopped_reason is None, report.stopped_reason
    sent = [e.request["response_format"]["schema"]["properties"]["summary"]["maxLength"] for e in proxy.chats()]
    assert sent and max(sent) == 1000
    assert server.running and proxy.failed_forwards == 0
    assert report.done + report.failed == len(ITEMS)
