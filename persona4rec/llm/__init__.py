"""An OpenAI-compatible LLM client for the offline stages: structured output validated with pydantic,
bounded retries with the validation error fed back, concurrency, backoff on 429/5xx/timeouts, a SQLite
response cache in the workspace, and token/cost accounting with a per-model price table.

Modules: config (LLMConfig and its CLI flags), pricing (the price table), cache (the response cache),
prompts (prompt files per domain and task), client (LLMClient). Import what you need from them; this
package module stays import-light.
"""
