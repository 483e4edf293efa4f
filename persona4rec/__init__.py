"""Persona4Rec: offline LLM reasoning for efficient, explainable recommendation.

Offline, personas are written per item (by an LLM or the extractive no-LLM backend); an encoder maps a
user's recent history near the persona that explains their choice; online, reranking is a
max-over-personas dot product and the winning persona is the explanation.

Imports here stay light on purpose: the CLI and the app import heavy parts (torch, faiss) lazily.
"""

__version__ = "0.1.0"
