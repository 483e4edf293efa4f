"""The text encoder E_theta: loading, user embeddings with decay, InfoNCE training."""
