"""The LLM listwise baseline of the latency table, run on a few test users (evaluation/llm_listwise.py)."""

from __future__ import annotations

from ...workspace import Workspace
from .config import BenchConfig


def llm_baseline(
    ws: Workspace, config: BenchConfig, reranker, users, lists, scores, persona_p50_ms: float, split_frame, say
) -> dict:
    """Run the listwise baseline on the first llm_users test users; accuracy on those users beside CF and
    Persona4Rec for context (a handful of users: not a quality estimate)."""
    from ...data.split import split_targets
    from ...metrics import rank_metrics
    from ..llm_listwise import local_llama_server, local_server_unavailable, run_listwise

    if not config.llm or config.llm_users < 1:
        return {"status": "not run", "reason": "disabled (--llm-users 0)"}
    if config.quick and not config.llm_base_url:
        return {"status": "not run", "reason": "quick mode without --llm-base-url"}
    targets = split_targets(split_frame, "test")
    chosen = [n for n, u in enumerate(users) if u in targets][: config.llm_users]
    sample_users, sample_lists = [users[n] for n in chosen], [lists[n] for n in chosen]

    def run(base_url: str) -> dict:
        say(f"LLM listwise baseline: {len(sample_users)} users via {base_url} ({config.llm_model}) ...")
        step = max(1, len(sample_users) // 10)  # about ten progress lines, whatever the sample size

        def progress(done: int, total: int) -> None:
            if done % step == 0 or done == total:
                say(f"LLM listwise baseline: {done}/{total} users")

        result = run_listwise(
            ws, sample_users, sample_lists, base_url=base_url, model=config.llm_model, progress=progress
        )
        out = result.summary()
        truth = [targets[u] for u in sample_users]
        ours = reranker.rank_ids_many(sample_users, sample_lists, "test", [scores[n] for n in chosen])
        out["same_users_NDCG@10"] = {
            "cf": rank_metrics(sample_lists, truth, (10,))["NDCG@10"],
            "persona4rec": rank_metrics(ours, truth, (10,))["NDCG@10"],
            "llm_listwise": rank_metrics([result.rankings[u] for u in sample_users], truth, (10,))["NDCG@10"],
        }
        out["persona4rec_single_p50_ms"] = persona_p50_ms
        out["speed_ratio_p50"] = out["p50_ms"] / persona_p50_ms if persona_p50_ms > 0 else None
        return out

    if config.llm_base_url:
        return run(config.llm_base_url)
    reason = local_server_unavailable()
    if reason:
        return {"status": "not run", "reason": reason}
    try:
        with local_llama_server() as base_url:
            return run(base_url)
    except RuntimeError as exc:
        return {"status": "not run", "reason": str(exc)}
