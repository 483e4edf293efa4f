"""Which encoder a workspace's index and user vectors use: the trained one, the vanilla one, or a path.

Vectors from different encoders must never be mixed, so every artefact built from encodings (the
persona index, the interaction cache) lives in a slot named after the encoder choice:
    ""          the workspace default: encoder/ when training has run, else the bundled model
    "@vanilla"  the bundled pre-trained model, asked for explicitly beside a trained one (for
                vanilla-vs-trained comparisons); with no trained model it IS the default, slot "", so
                its vectors are made once
    "@<hash>"   any other sentence-transformers path or name
and records `encoder_identity` of the model that made it, so a retrained model makes the old one stale.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..embedding import DEFAULT_ENCODER, encoder_identity
from ..errors import WorkspaceError
from ..workspace import Workspace

AUTO, TRAINED, VANILLA = "auto", "trained", "vanilla"


@dataclass(frozen=True)
class EncoderChoice:
    label: str  # "trained" | "vanilla" | "custom"
    model: str | None  # what load_encoder()/encode() take; None is the bundled model
    slot: str  # suffix of index/<variant><slot>/ and index/interactions<slot>.*

    def identity(self) -> str:
        return encoder_identity(self.model)

    def describe(self) -> str:
        return f"{self.label} ({self.model or DEFAULT_ENCODER})"


def has_trained_encoder(ws: Workspace) -> bool:
    return (ws.encoder_dir / "modules.json").is_file()


def choose_encoder(ws: Workspace, encoder: str | os.PathLike | None = None) -> EncoderChoice:
    """Resolve None/"auto", "trained", "vanilla" or a model path/name for this workspace."""
    if encoder is None or str(encoder) in ("", AUTO):
        if has_trained_encoder(ws):
            return EncoderChoice(TRAINED, str(ws.encoder_dir), "")
        return EncoderChoice(VANILLA, None, "")
    encoder = str(encoder)
    if encoder == TRAINED:
        if not has_trained_encoder(ws):
            raise WorkspaceError(
                f"{ws.root}: no trained encoder in {ws.encoder_dir}; run `persona4rec train {ws.root}` "
                "first, or use the vanilla encoder"
            )
        return EncoderChoice(TRAINED, str(ws.encoder_dir), "")
    if encoder == VANILLA or encoder == DEFAULT_ENCODER:
        # Sharing slot "" is safe: once training runs, identity() no longer matches and "" is rebuilt.
        return EncoderChoice(VANILLA, None, "@vanilla" if has_trained_encoder(ws) else "")
    if Path(encoder).resolve() == ws.encoder_dir.resolve():
        return choose_encoder(ws, TRAINED)
    return EncoderChoice("custom", encoder, "@" + hashlib.sha256(encoder.encode()).hexdigest()[:8])
