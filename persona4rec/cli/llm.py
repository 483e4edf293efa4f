"""`persona4rec llm check`: ask the configured server one structured question before a long run.

Prints the endpoint, the model, the structured-output protocol it accepts (auto-detected unless
--response-format says), the validated answer, its tokens, cost and latency. Nothing is cached or
written. Exit codes: 0 a valid answer, 1 an invalid one (the raw answer is shown), 2 unreachable
server or bad configuration.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("llm", help="the LLM connection used by `offline --backend llm`")
    verbs = group.add_subparsers(dest="llm_command", metavar="VERB")
    group.set_defaults(func=lambda args: (group.print_help(), 1)[1])
    check = verbs.add_parser("check", help="ask the server one structured question and report protocol, tokens, cost")
    from ..llm.config import add_llm_arguments

    add_llm_arguments(check)
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    import time

    from pydantic import BaseModel, Field

    from ..llm.client import LLMClient
    from ..llm.config import llm_config_from_args

    class Summary(BaseModel):
        summary: str = Field(min_length=1)

    config = llm_config_from_args(args)
    client = LLMClient(config)  # no cache: the point is to reach the server
    messages = [
        {"role": "system", "content": "You answer with one JSON object and nothing else."},
        {
            "role": "user",
            "content": 'Summarise in one neutral sentence: "Clip-on chromatic tuner for '
            'guitar and bass, with a backlit display." Answer as {"summary": "..."}.',
        },
    ]
    t0 = time.perf_counter()
    done = client.complete(messages, Summary, max_tokens=min(config.max_tokens or 120, 120))
    seconds = time.perf_counter() - t0
    print(f"endpoint: {config.base_url or 'OpenAI API'}  model: {config.model}  protocol: {client.response_format}")
    u = done.usage
    print(
        f"calls={u.calls} tokens={u.prompt_tokens}+{u.completion_tokens} cost=${u.cost_usd:.6f} "
        f"attempts={done.attempts} in {seconds:.1f}s"
    )
    if done.ok:
        print(f"answer: {done.value.summary}")
        return 0
    print(f"invalid answer: {done.error}\nraw: {done.raw}")
    return 1
