"""Offline reasoning: item summaries, review aspects, personas, user profiles and alignment.

schema.py       what each stage produces, as pydantic models
records.py      where each stage keeps its records (offline/*.jsonl) and how later code reads them
backend.py      the contract between the stages and a backend (inputs, results, usage)
engine.py       the resumable batch engine the stages run on, and `StageReport`
ray_engine.py   the same batches on a Ray cluster's workers (`--engine ray`; Ray is optional)
engine_bench.py `offline bench-engine`: the chain's throughput, local engine vs Ray with 1, 2, ... workers
stages/         the five stages, one module each, and `run_all` (see its docstring)
backends.py     choosing a backend by name: "extractive" or "llm"
extractive.py   the no-LLM backend (embeddings, clustering, class-based TF-IDF)
slots.py        prototype phrasings of each aspect slot, for the extractive backend
text.py         small text helpers of the extractive backend: clean, split, trim, quote
llm_backend.py  the LLM backend: the paper's four LLM steps through persona4rec.llm
status.py       `persona4rec offline status`: what the stages made, checked
"""
