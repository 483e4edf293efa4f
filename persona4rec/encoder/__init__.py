"""The encoder E_theta on top of the text embedding (persona4rec/embedding.py): which encoder a workspace
uses, users' timelines and decay-weighted user vectors, and training (adapter, full or LoRA) with InfoNCE.

    selection.py  the trained, vanilla or a given encoder, and its slot's caches
    timeline.py   each user's interactions in time order and the history before a target
    texts.py      the interaction text the encoder reads
    user.py       user vectors: decay-weighted mean of the last L interaction vectors, cached
    adapter.py    adapter training over the frozen base encoder's cached embeddings (the default mode)
    train.py      full fine-tuning and LoRA
"""
