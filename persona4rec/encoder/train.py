"""Fine-tuning the encoder with InfoNCE on the alignment set D_align.

Each training pair is (user embedding at the time of the interaction, text of the persona the judge
aligned it with). With in-batch negatives the loss is MultipleNegativesRanking's:

    loss = CE( (U P^T) / temperature, diagonal ),   U, P L2-normalised, B x d

A batch may hold the same persona twice (two users aligned with it): those off-diagonal duplicates are
masked out rather than treated as negatives.

The user side, `user_grad_depth` (the cheaper faithful variant we default to): the user vector is the
decay-weighted mean of the last L interaction embeddings, all from the SAME model being trained. The
newest `user_grad_depth` interactions are encoded in the forward pass (with gradient); the older ones
come from a no-grad cache refreshed with the current model at the start of every epoch. Depth L is the
exact method (L texts per pair through the model each step, ~L times the cost), depth 0 trains the
persona side only. The newest interaction carries the largest weight (gamma^0), so depth 1 keeps most
of the gradient at a fraction of the cost on CPU.

LoRA (r=16, alpha=32, dropout 0.05 on the attention query/value projections, as the paper) trains
adapters only; they are merged into the weights before saving, so encoder/ is always a plain
sentence-transformers directory that `load_encoder(ws.encoder_dir)` loads.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

import numpy as np

from ..config import to_dict
from ..data.schema import review_key
from ..data.split import HISTORY_LENGTH
from ..embedding import decay_weights, decayed_sum
from ..errors import ConfigError, WorkspaceError
from ..io import atomic_dir, write_json, write_text
from ..offline.persona_text import DEFAULT_PERSONA_TEXT, check_persona_text_mode, persona_text
from ..offline.records import load_alignment, load_personas, stage_path
from ..workspace import Workspace
from .timeline import Timelines, interaction_texts

DEFAULT_MODE = "adapter"  # best VALID NDCG@10 for its cost on every workspace measured (docs/RESULTS.md)


@dataclass
class TrainConfig:
    """Full fine-tuning and LoRA (`mode` full | lora); the adapter mode has its own AdapterConfig."""

    base_encoder: str = ""  # "" = the bundled all-MiniLM-L6-v2; or any sentence-transformers path
    epochs: int = 2
    batch_size: int = 32
    lr: float = 0.0  # 0 = 3e-5 for full fine-tuning, 3e-4 with LoRA
    temperature: float = 0.05  # MultipleNegativesRankingLoss' default scale 20
    gamma: float = 0.9
    history_length: int = HISTORY_LENGTH
    user_grad_depth: int = 1  # newest interactions encoded with gradient (see module doc)
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    max_seq_length: int = 128
    max_pairs: int = 0  # 0 = every usable alignment pair
    persona_text: str = DEFAULT_PERSONA_TEXT
    seed: int = 13
    progress: bool = True

    def learning_rate(self) -> float:
        return self.lr if self.lr > 0 else (3e-4 if self.lora else 3e-5)

    def check(self) -> TrainConfig:
        if self.epochs < 1 or self.batch_size < 2:
            raise ConfigError("training needs epochs >= 1 and batch size >= 2 (in-batch negatives)")
        if self.temperature <= 0:
            raise ConfigError(f"temperature must be positive, got {self.temperature}")
        if not 0 <= self.user_grad_depth <= self.history_length:
            raise ConfigError(f"user_grad_depth must be in [0, history_length={self.history_length}]")
        decay_weights(1, self.gamma)
        check_persona_text_mode(self.persona_text)
        return self


@dataclass
class TrainPair:
    history: list[str]  # interaction keys "user|item", oldest first
    persona_text: str
    persona_key: str


@dataclass
class TrainResult:
    pairs: int
    skipped: dict[str, int]
    steps: int
    seconds: float
    loss_before: float
    loss_after: float
    loss_curve: list[float]
    encoder_dir: str


def training_pairs(
    ws: Workspace, timelines: Timelines, config: TrainConfig
) -> tuple[list[TrainPair], dict[str, str], dict[str, int]]:
    """Alignment records -> pairs with a non-empty history; also the interaction texts they need."""
    if not stage_path(ws, "alignment").exists():
        raise WorkspaceError(f"{ws.root}: no offline/alignment.jsonl; run the offline alignment stage first")
    personas = load_personas(ws)
    skipped = {"no_history": 0, "unknown_persona": 0}
    pairs, needed = [], []
    for record in load_alignment(ws).values():
        item = personas.get(record.item_id)
        persona = next((p for p in item.personas if p.id == record.persona_id), None) if item else None
        if persona is None:
            skipped["unknown_persona"] += 1
            continue
        history = timelines.history_before(record.user_id, record.item_id, config.history_length)
        if not history:
            skipped["no_history"] += 1
            continue
        keys = [review_key(record.user_id, i) for i in history]
        needed.extend((record.user_id, i) for i in history)
        pairs.append(TrainPair(keys, persona_text(persona, config.persona_text), f"{record.item_id}_{persona.id}"))
    if config.max_pairs and len(pairs) > config.max_pairs:
        pairs = random.Random(config.seed).sample(pairs, config.max_pairs)
    if len(pairs) < 2:
        raise WorkspaceError(f"{ws.root}: only {len(pairs)} usable alignment pair(s); training needs at least 2")
    texts = interaction_texts(ws, sorted(set(needed)))
    return pairs, texts, skipped


class _Trainer:
    """The model, its optimiser and the InfoNCE step."""

    def __init__(self, config: TrainConfig):
        import torch
        from sentence_transformers import SentenceTransformer

        from ..embedding import resolve_model

        self.torch, self.config = torch, config
        torch.manual_seed(config.seed)
        self.model = SentenceTransformer(resolve_model(config.base_encoder or None), device="cpu")
        self.model.max_seq_length = config.max_seq_length
        if config.lora:
            self._add_lora()
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=config.learning_rate())

    def _add_lora(self) -> None:
        try:
            from peft import LoraConfig, get_peft_model
        except ImportError as exc:
            raise ConfigError("--lora needs peft: pip install 'persona4rec[lora]'") from exc
        c = self.config
        # peft injects the adapters into the backbone in place (and freezes its weights); the wrapper
        # it returns is kept for merging them back at save time.
        self._peft = get_peft_model(
            self.model[0].auto_model,
            LoraConfig(
                r=c.lora_r, lora_alpha=c.lora_alpha, lora_dropout=c.lora_dropout, target_modules=["query", "value"]
            ),
        )

    def embed(self, texts: list[str], grad: bool):
        torch = self.torch
        if not texts:
            dim = getattr(self.model, "get_embedding_dimension", self.model.get_sentence_embedding_dimension)()
            return torch.zeros((0, dim))
        features = self.model.preprocess(texts)
        with torch.set_grad_enabled(grad):
            out = self.model(features)["sentence_embedding"]
            return torch.nn.functional.normalize(out, dim=-1)

    def embed_cache(self, texts: dict[str, str], batch: int = 64) -> dict[str, np.ndarray]:
        """No-grad embeddings of all interaction texts with the current weights (the per-epoch cache)."""
        self.model.eval()
        keys = list(texts)
        vecs = []
        for start in range(0, len(keys), batch):
            vecs.append(self.embed([texts[k] for k in keys[start : start + batch]], grad=False).numpy())
        self.model.train()
        return dict(zip(keys, np.concatenate(vecs) if vecs else []))

    def user_vectors(self, batch: list[TrainPair], texts: dict[str, str], cache: dict[str, np.ndarray], depth: int):
        """Decay-weighted user vectors; the newest `depth` interactions go through the model with grad."""
        torch = self.torch
        fresh_keys = sorted({k for p in batch for k in p.history[-depth:]}) if depth else []
        fresh = self.embed([texts[k] for k in fresh_keys], grad=True)
        fresh_row = {k: n for n, k in enumerate(fresh_keys)}
        users = []
        for pair in batch:
            parts = []
            for n, key in enumerate(pair.history):
                if depth and n >= len(pair.history) - depth:
                    parts.append(fresh[fresh_row[key]])
                else:
                    parts.append(torch.from_numpy(cache[key]))
            users.append(decayed_sum(torch.stack(parts), self.config.gamma))
        return torch.nn.functional.normalize(torch.stack(users), dim=-1)

    def loss(self, users, personas, keys: list[str]):
        torch = self.torch
        logits = users @ personas.T / self.config.temperature
        same = np.array([[a == b for b in keys] for a in keys]) & ~np.eye(len(keys), dtype=bool)
        if same.any():
            logits = logits.masked_fill(torch.from_numpy(same), float("-inf"))
        return torch.nn.functional.cross_entropy(logits, torch.arange(len(keys)))

    def step(self, batch, texts, cache) -> float:
        users = self.user_vectors(batch, texts, cache, self.config.user_grad_depth)
        personas = self.embed([p.persona_text for p in batch], grad=True)
        loss = self.loss(users, personas, [p.persona_key for p in batch])
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def evaluate(self, pairs: list[TrainPair], texts: dict[str, str], batches: list[list[int]]) -> float:
        """Mean InfoNCE over fixed batches with the current weights, nothing trained (before/after)."""
        cache = self.embed_cache(texts)
        self.model.eval()
        losses = []
        with self.torch.no_grad():
            for idx in batches:
                batch = [pairs[i] for i in idx]
                users = self.user_vectors(batch, texts, cache, 0)
                personas = self.embed([p.persona_text for p in batch], grad=False)
                losses.append(float(self.loss(users, personas, [p.persona_key for p in batch])))
        self.model.train()
        return float(np.mean(losses))

    def save(self, target) -> None:
        if self.config.lora:
            self._peft.merge_and_unload()  # in place: LoRA layers replaced by merged Linear layers
        self.model.save(str(target))


def _batches(n: int, size: int, rng: random.Random) -> list[list[int]]:
    order = list(range(n))
    rng.shuffle(order)
    batches = [order[s : s + size] for s in range(0, n, size)]
    return [b for b in batches if len(b) >= 2]


def train_encoder(ws: Workspace, config: TrainConfig | None = None) -> TrainResult:
    """Train, save to ws.encoder_dir (atomically), write reports/loss_curve.json (+ .html), record the
    stage "encoder" in the manifest (config, pairs, seconds, loss before/after)."""
    from tqdm.auto import tqdm

    config = (config or TrainConfig()).check()
    timelines = Timelines.from_workspace(ws)
    with ws.stage("encoder", **to_dict(config)) as info:
        pairs, texts, skipped = training_pairs(ws, timelines, config)
        rng = random.Random(config.seed)
        trainer = _Trainer(config)
        eval_batches = _batches(len(pairs), config.batch_size, random.Random(config.seed + 1))
        loss_before = trainer.evaluate(pairs, texts, eval_batches)
        curve, epoch_means = [], []
        t0 = time.perf_counter()
        steps_per_epoch = math.ceil(len(pairs) / config.batch_size)
        bar = tqdm(total=config.epochs * steps_per_epoch, desc="train encoder", disable=not config.progress)
        for epoch in range(config.epochs):
            cache = trainer.embed_cache(texts) if config.user_grad_depth < config.history_length else {}
            losses = []
            for idx in _batches(len(pairs), config.batch_size, rng):
                losses.append(trainer.step([pairs[i] for i in idx], texts, cache))
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{losses[-1]:.3f}")
            curve.extend(losses)
            epoch_means.append(float(np.mean(losses)))
        bar.close()
        train_seconds = time.perf_counter() - t0
        loss_after = trainer.evaluate(pairs, texts, eval_batches)
        _save_model(ws, trainer)
        _write_curve(ws, curve, epoch_means, loss_before, loss_after, config)
        info.update(
            pairs=len(pairs),
            skipped=skipped,
            steps=len(curve),
            train_seconds=round(train_seconds, 3),
            loss_before=round(loss_before, 5),
            loss_after=round(loss_after, 5),
            learning_rate=config.learning_rate(),
            counts={"pairs": len(pairs), "steps": len(curve)},
        )
    return TrainResult(
        pairs=len(pairs),
        skipped=skipped,
        steps=len(curve),
        seconds=train_seconds,
        loss_before=loss_before,
        loss_after=loss_after,
        loss_curve=curve,
        encoder_dir=str(ws.encoder_dir),
    )


def _save_model(ws: Workspace, trainer: _Trainer) -> None:
    """Write the model beside encoder/ and swap it in, so a crash never leaves half a model."""
    from ..embedding import forget_encoder

    with atomic_dir(ws.encoder_dir) as staging:
        trainer.save(staging)
    forget_encoder(ws.encoder_dir)


def _write_curve(
    ws: Workspace, curve: list[float], epoch_means: list[float], before: float, after: float, config: TrainConfig
) -> None:
    import plotly.graph_objects as go

    write_json(
        ws.reports_dir / "loss_curve.json",
        {
            "step_loss": curve,
            "epoch_mean_loss": epoch_means,
            "loss_before": before,
            "loss_after": after,
            "config": to_dict(config),
        },
    )
    fig = go.Figure(go.Scatter(y=curve, mode="lines", name="InfoNCE (batch)"))
    fig.update_layout(
        title=f"Encoder training: InfoNCE {before:.3f} -> {after:.3f}",
        xaxis_title="step",
        yaxis_title="loss",
        template="plotly_white",
    )
    write_text(ws.reports_dir / "loss_curve.html", fig.to_html(include_plotlyjs="cdn", full_html=True))
