"""What the bench reads, made when missing: every generator's candidates and a fine-tuned encoder."""

from __future__ import annotations

from collections.abc import Callable

from ...errors import WorkspaceError
from ...workspace import Workspace
from .config import BenchConfig


def ensure_inputs(ws: Workspace, config: BenchConfig, say: Callable[[str], None]) -> list[str]:
    """Candidates for every generator (trained here when missing) and the encoders to compare."""
    from ...candidates.generate import generate_candidates
    from ...encoder.selection import has_trained_encoder
    from ...offline.records import stage_path

    hints = {
        "personas": f"persona4rec offline all {ws.root}",
        "personas_single": f"persona4rec offline personas {ws.root} --single",
    }
    for stage, hint in hints.items():
        if not stage_path(ws, stage).exists():
            raise WorkspaceError(f"{stage_path(ws, stage)} is missing; run `{hint}` first")
    for generator in config.generators:
        if not (ws.candidates_dir / f"{generator}.parquet").exists():
            say(f"candidates/{generator}.parquet is missing: training {generator} ...")
            generate_candidates(ws, generator, progress=False)
    if not has_trained_encoder(ws) and not config.skip_train:
        from ...encoder.adapter import train_adapter

        say("no trained encoder: training the adapter (InfoNCE on offline/alignment.jsonl) ...")
        result = train_adapter(ws, progress=False)
        say(
            f"  {result.pairs} pairs, {result.epochs_run} epochs, {result.seconds:.1f} s, "
            f"VALID NDCG@10 {result.valid_before:.4f} -> {result.valid_best:.4f}"
        )
    return ["vanilla", "trained"] if has_trained_encoder(ws) else ["vanilla"]


def encoder_label(ws: Workspace, encoder: str) -> str:
    """ "vanilla", or the trained encoder's mode ("adapter", "full", "lora") as the manifest records it."""
    if encoder != "trained":
        return encoder
    config = (ws.stage_info("encoder") or {}).get("config", {})
    return config.get("mode") or ("lora" if config.get("lora") else "full")
