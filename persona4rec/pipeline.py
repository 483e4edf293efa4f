"""The whole chain on one workspace: data -> offline personas -> candidates -> encoder -> indexes -> metrics.

`build_all(...)` is what `persona4rec build` and `persona4rec demo` run. Every step is resumable and
skips what is already done (the stages keep their own per-unit records; candidates, encoder and indexes
are checked through the manifest and the index fingerprints), so re-running after a crash or a Ctrl-C
redoes nothing that finished.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError, WorkspaceError
from .workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class BuildConfig:
    backend: str = "extractive"  # offline backend: extractive (no LLM) or llm
    single: bool = True  # also build the single-persona variant (for the comparison page)
    generators: tuple[str, ...] = ("bpr", "lightgcn")
    train: bool = True  # train the encoder on the alignment set
    train_mode: str = "adapter"  # adapter (seconds), full or lora fine-tuning
    epochs: int = 1  # full / lora fine-tuning epochs (the adapter early-stops on VALID)
    tune: bool = True  # tune the serving config on VALID (serving.json)
    k: int = 20  # first-stage candidates per user
    seed: int = 0  # demo catalogue seed


@dataclass
class BuildStep:
    name: str
    seconds: float
    note: str = ""


@dataclass
class BuildReport:
    workspace: Path
    steps: list[BuildStep] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"  {s.name:<22} {s.seconds:8.1f} s  {s.note}" for s in self.steps]


def find_dataset_files(path: Path) -> tuple[Path, Path | None]:
    """A reviews file and an optional metadata file from a file or a dataset folder (e.g. ../shared/data/...)."""
    if path.is_file():
        return path, None
    if not path.is_dir():
        raise InputError("no such file or folder", path=path)
    files = sorted(p for p in path.iterdir() if p.is_file() and ".json" in p.name)
    reviews = [p for p in files if "review" in p.name.lower()]
    meta = [p for p in files if "meta" in p.name.lower()]
    if len(reviews) != 1:
        raise InputError(
            f"expected exactly one reviews file (name containing 'review') in the folder, "
            f"found {[p.name for p in reviews]}",
            path=path,
        )
    return reviews[0], (meta[0] if meta else None)


def create_workspace(out: Path, data: Path | None, seed: int = 0) -> Workspace:
    """The demo catalogue (data=None) or an imported dataset, written as a new workspace."""
    if data is None:
        from .demo.catalogue import build_demo_workspace

        return build_demo_workspace(out, seed=seed)
    from .data.formats import ImportConfig, ImportRequest
    from .data.importer import import_dataset

    reviews, meta = find_dataset_files(Path(data))
    return import_dataset(ImportRequest(reviews=reviews, meta=meta, config=ImportConfig()), out)[0]


def _offline(ws: Workspace, config: BuildConfig, progress: bool) -> str:
    from .offline.backends import make_backend
    from .offline.stages import run_all

    reports = run_all(ws, make_backend(ws, config.backend), single=config.single, progress=progress)
    stopped = [r for r in reports if r.stopped_reason]
    if stopped:
        raise WorkspaceError(f"offline stage stopped: {stopped[0].stopped_reason}; re-run to resume")
    return "personas for {} items".format(sum(1 for _ in open(ws.offline_dir / "personas.jsonl")))


def _candidates(ws: Workspace, config: BuildConfig, progress: bool) -> str:
    from .candidates.generate import generate_candidates

    notes = []
    for generator in config.generators:
        if ws.stage_done(f"candidates:{generator}") and (ws.candidates_dir / f"{generator}.parquet").exists():
            notes.append(f"{generator} (kept)")
            continue
        run = generate_candidates(ws, generator, k=config.k, progress=progress)
        notes.append(f"{generator} recall@{config.k} test {run.recall.get('test', float('nan')):.3f}")
    return ", ".join(notes)


def _encoder(ws: Workspace, config: BuildConfig, progress: bool) -> str:
    if not config.train:
        return "skipped (--no-train): the vanilla encoder serves"
    from .encoder.selection import has_trained_encoder

    if has_trained_encoder(ws) and ws.stage_done("encoder"):
        return "kept the trained encoder"
    if config.train_mode == "adapter":
        from .encoder.adapter import train_adapter

        variants = ("multi", "summary") + (("single",) if config.single else ())
        result = train_adapter(ws, progress=progress, index_variants=variants)
        return (
            f"adapter: {result.pairs} pairs, {result.epochs_run} epochs in {result.seconds:.1f} s, "
            f"VALID NDCG@10 {result.valid_before:.3f} -> {result.valid_best:.3f}"
        )
    from .encoder.train import TrainConfig, train_encoder

    result = train_encoder(ws, TrainConfig(epochs=config.epochs, lora=config.train_mode == "lora", progress=progress))
    return f"{result.pairs} pairs, InfoNCE loss {result.loss_before:.3f} -> {result.loss_after:.3f}"


def _tune(ws: Workspace, config: BuildConfig, progress: bool) -> str:
    if not config.tune:
        return "skipped: the built-in defaults serve"
    serving = ws.root / "serving.json"
    inputs = [ws.encoder_dir / "modules.json", *(ws.candidates_dir / f"{g}.parquet" for g in config.generators)]
    if serving.exists() and all(not f.exists() or f.stat().st_mtime < serving.stat().st_mtime for f in inputs):
        return "kept serving.json (tuned after the encoder and candidates it depends on)"
    from .evaluation.tuning import tune_serving

    configs = tune_serving(ws, config.generators)
    return ", ".join(f"{c.generator}/{c.variant} {c.scoring()}" for c in configs) + " (serving.json)"


def _indexes(ws: Workspace, config: BuildConfig, progress: bool) -> str:
    from .index.persona_index import open_index

    variants = ["multi", "summary"] + (["single"] if config.single else [])
    built = [f"{v}: {open_index(ws, v, progress=progress).meta['count']} vectors" for v in variants]
    return "; ".join(built)


def _metrics(ws: Workspace, config: BuildConfig, progress: bool) -> str:
    """CF generators and the pure persona rerankers (no fusion) on the test split, into reports/."""
    from .candidates.generate import load_candidates
    from .evaluation.report import merge_metrics
    from .evaluation.workspace_eval import (
        compare_to_generator,
        evaluate_generator,
        ranked_lists,
        record_generator_evaluation,
    )
    from .rerank import Reranker

    notes = []
    variants = ["multi"] + (["single"] if config.single else [])
    for generator in config.generators:
        record_generator_evaluation(ws, evaluate_generator(ws, generator, split="test"))
        lists = ranked_lists(load_candidates(ws, generator), "test")
        users = sorted(lists)
        for variant in variants:
            reranker = Reranker.from_workspace(ws, variant)
            reranked = dict(zip(users, reranker.rank_ids_many(users, [lists[u] for u in users], split="test")))
            evaluation, comparison = compare_to_generator(ws, generator, reranked, name=f"persona-{variant}")
            merge_metrics(
                ws,
                ("rerankers", generator, f"persona-{variant}", "test"),
                {**evaluation.to_dict(), "vs_generator": _as_dict(comparison)},
            )
            notes.append(f"{variant}@{generator} NDCG@10 {evaluation.overall['NDCG@10']:.4f}")
    return ", ".join(notes)


def _as_dict(obj):
    import dataclasses

    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj


STEPS: list[tuple[str, Callable[[Workspace, BuildConfig, bool], str]]] = [
    ("offline personas", _offline),
    ("candidates", _candidates),
    ("encoder", _encoder),
    ("indexes", _indexes),
    ("tune", _tune),
    ("metrics", _metrics),
]


def build_all(
    out: str | Path,
    *,
    data: str | Path | None = None,
    config: BuildConfig | None = None,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
) -> BuildReport:
    """Create the workspace if needed (demo catalogue when `data` is None), then run every step."""
    config = config or BuildConfig()
    echo = echo or logging.getLogger(__name__).info  # the CLI passes a flushed print
    out = Path(out)
    report = BuildReport(out)
    t0 = time.perf_counter()
    if (out / "manifest.json").exists():
        ws = Workspace.open(out)
        report.steps.append(BuildStep("data", 0.0, "kept the existing workspace"))
    else:
        ws = create_workspace(out, Path(data) if data else None, seed=config.seed)
        report.steps.append(BuildStep("data", time.perf_counter() - t0, f"created from {data or 'the demo catalogue'}"))
    echo(f"workspace {ws.root}: {report.steps[-1].note}")
    for name, step in STEPS:
        t0 = time.perf_counter()
        echo(f"[{name}] ...")
        note = step(ws, config, progress)
        report.steps.append(BuildStep(name, time.perf_counter() - t0, note))
        echo(f"[{name}] {note} ({report.steps[-1].seconds:.1f} s)")
    return report
