"""Build, save and open a persona-profiled index: index/<variant><slot>/ holds

    personas.faiss   the FAISS index over the L2-normalised persona vectors (inner product = cosine),
                     chosen by size (retrieval.choose_factory: exact "Flat" up to 20,000 personas, an
                     inverted file beyond, its nprobe tuned at build time for recall@20 of items)
    vectors.npy      the same vectors, memory-mapped on open so many processes share one copy
    mapping.parquet  one row per vector: item_id, persona_id, persona_key, name, description,
                     preference_rationale, source, text
    meta.json        variant, encoder and its identity, persona text mode, input fingerprints, counts

The folder is built beside its final place and renamed in, so a reader never sees half an index. An
index whose encoder or inputs changed since it was built is stale: `open_index` rebuilds it (or says so).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..encoder.selection import EncoderChoice, choose_encoder
from ..errors import WorkspaceError
from ..io import atomic_dir, read_json, write_json
from ..offline.persona_text import DEFAULT_PERSONA_TEXT, check_persona_text_mode
from ..offline.records import stage_path
from ..workspace import Workspace, utc_now
from .scoring import PaddedPersonaTable
from .variants import parse_variant, variant_entries

log = logging.getLogger(__name__)
FAISS_FILE, VECTORS_FILE, MAPPING_FILE, META_FILE = "personas.faiss", "vectors.npy", "mapping.parquet", "meta.json"


def index_location(ws: Workspace, variant: str, choice: EncoderChoice) -> Path:
    parse_variant(variant)
    return ws.index_dir / f"{variant}{choice.slot}"


def input_fingerprint(ws: Workspace, variant: str) -> dict[str, str]:
    """Size and mtime of the files the variant is built from: a changed input makes the index stale."""
    kind, _ = parse_variant(variant)
    files = [ws.data_dir / "items.parquet", stage_path(ws, "summaries")]
    if kind != "summary":
        files.append(stage_path(ws, "personas_single" if kind == "single" else "personas"))
    out = {}
    for file in files:
        out[file.name] = f"{file.stat().st_size}:{file.stat().st_mtime_ns}" if file.exists() else "absent"
    return out


class PersonaIndex:
    """One opened index. `entries` is the mapping frame; `table` the padded tensor for scoring."""

    def __init__(self, path: Path, vectors: np.ndarray, entries, meta: dict):
        self.path, self.vectors, self.entries, self.meta = path, vectors, entries, meta
        self._table: PaddedPersonaTable | None = None
        self._faiss = None

    @classmethod
    def load(cls, path: Path) -> PersonaIndex:
        import pandas as pd

        for name in (VECTORS_FILE, MAPPING_FILE, META_FILE):
            if not (path / name).exists():
                raise WorkspaceError(f"{path}: not a complete index ({name} missing); rebuild with `persona4rec index`")
        vectors = np.load(path / VECTORS_FILE, mmap_mode="r")
        entries = pd.read_parquet(path / MAPPING_FILE)
        return cls(path, vectors, entries, read_json(path / META_FILE))

    @property
    def variant(self) -> str:
        return self.meta["variant"]

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def table(self) -> PaddedPersonaTable:
        if self._table is None:
            self._table = PaddedPersonaTable.build(self.entries["item_id"].tolist(), np.asarray(self.vectors))
        return self._table

    @property
    def faiss(self):
        """The FAISS flat inner-product index (read from personas.faiss on first use)."""
        if self._faiss is None:
            import faiss

            self._faiss = faiss.read_index(str(self.path / FAISS_FILE))
        return self._faiss

    def item_ids(self) -> list[str]:
        return self.table.item_ids


def build_index(
    ws: Workspace,
    variant: str = "multi",
    encoder: str | EncoderChoice | None = None,
    persona_text: str = DEFAULT_PERSONA_TEXT,
    progress: bool = False,
    encode_fn: Callable[[list[str]], np.ndarray] | None = None,
) -> PersonaIndex:
    """Embed the variant's persona texts and save the index; records the stage `index:<variant><slot>`.

    encode_fn: what embeds the texts when it is not the encoder's own pass (a trained adapter's shortcut
    over base vectors already at hand); it must give what the encoder's document side would."""
    import faiss

    from ..embedding import encode
    from ..io import write_parquet

    check_persona_text_mode(persona_text)
    choice = encoder if isinstance(encoder, EncoderChoice) else choose_encoder(ws, encoder)
    location = index_location(ws, variant, choice)
    config = {"variant": variant, "encoder": choice.describe(), "persona_text": persona_text}
    with ws.stage(f"index:{location.name}", **config) as info:
        fingerprint = input_fingerprint(ws, variant)
        entries = variant_entries(ws, variant, persona_text)
        if entries.empty:
            raise WorkspaceError(f"{ws.root}: the catalogue is empty; nothing to index")
        t0 = time.perf_counter()
        texts = entries["text"].tolist()
        vectors = encode_fn(texts) if encode_fn else encode(texts, choice.model, show_progress=progress)
        encode_seconds = time.perf_counter() - t0
        search_index, search = size_chosen_index(vectors, entries["item_id"].tolist())
        meta = {
            "variant": variant,
            "encoder_label": choice.label,
            "encoder_model": choice.model,
            "encoder_identity": choice.identity(),
            "persona_text": persona_text,
            "inputs": fingerprint,
            "count": int(len(entries)),
            "items": int(entries["item_id"].nunique()),
            "dim": int(vectors.shape[1]),
            "sources": {k: int(v) for k, v in entries["source"].value_counts().items()},
            "max_personas_per_item": int(entries.groupby("item_id").size().max()),
            "encode_seconds": round(encode_seconds, 3),
            "search_index": search,
            "built": utc_now(),
        }
        with atomic_dir(location) as staging:
            faiss.write_index(search_index, str(staging / FAISS_FILE))
            with open(staging / VECTORS_FILE, "wb") as fh:
                np.save(fh, vectors)
            write_parquet(staging / MAPPING_FILE, entries)
            write_json(staging / META_FILE, meta)
        info["counts"] = {"vectors": meta["count"], "items": meta["items"], **meta["sources"]}
    log.info("index %s: %d vectors for %d items", location, meta["count"], meta["items"])
    return PersonaIndex.load(location)


def size_chosen_index(vectors: np.ndarray, item_ids: list[str]) -> tuple[object, dict]:
    """The size-chosen FAISS index over the vectors and what describes it (factory, tuned nprobe). An
    inverted file's nprobe is tuned on pseudo-users (no users at hand here) for recall@20 of items."""
    from .retrieval import (
        TARGET_RECALL,
        build_search_index,
        choose_factory,
        exact_items,
        inverted_file,
        pseudo_users,
        tune_nprobe,
    )

    factory = choose_factory(len(vectors), vectors.shape[1])
    index = build_search_index(vectors, factory)
    search: dict = {"factory": factory}
    if inverted_file(index) is not None:
        items = np.asarray(item_ids, dtype=object)
        widest = int(max(np.unique(items, return_counts=True)[1]))
        queries = pseudo_users(vectors)
        exact = exact_items(vectors, items, widest, queries, 20)
        nprobe = tune_nprobe(index, items, widest, queries, exact, [()] * len(queries), 20, TARGET_RECALL)
        inverted_file(index).nprobe = nprobe
        search.update(nprobe=nprobe, tuned_for="recall@20 of items >= 0.95 on pseudo-users")
        log.info("index: %s, nprobe %d", factory, nprobe)
    return index, search


def stale_reason(
    ws: Workspace, variant: str, choice: EncoderChoice, path: Path, persona_text: str = DEFAULT_PERSONA_TEXT
) -> str | None:
    """Why the index at `path` cannot serve this encoder and these inputs (None when it can)."""
    if not (path / META_FILE).exists():
        return "it has not been built"
    meta = read_json(path / META_FILE)
    if meta.get("encoder_identity") != choice.identity():
        return "the encoder changed since it was built"
    if meta.get("persona_text") != persona_text:
        return f"it was built with persona text '{meta.get('persona_text')}'"
    if meta.get("inputs") != input_fingerprint(ws, variant):
        return "its input files changed since it was built"
    return None


def open_index(
    ws: Workspace,
    variant: str = "multi",
    encoder: str | EncoderChoice | None = None,
    persona_text: str = DEFAULT_PERSONA_TEXT,
    build: bool = True,
    progress: bool = False,
) -> PersonaIndex:
    """The index for (variant, encoder), rebuilt first when missing or stale (or an error if build=False)."""
    choice = encoder if isinstance(encoder, EncoderChoice) else choose_encoder(ws, encoder)
    path = index_location(ws, variant, choice)
    reason = stale_reason(ws, variant, choice, path, persona_text)
    if reason is None:
        return PersonaIndex.load(path)
    if not build:
        raise WorkspaceError(
            f"{path}: index unusable because {reason}; run `persona4rec index {ws.root} --variant {variant}`"
        )
    log.info("building index %s (%s)", path, reason)
    return build_index(ws, variant, choice, persona_text, progress)
