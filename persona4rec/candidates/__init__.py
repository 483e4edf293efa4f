"""First-stage candidate generators: BPR-MF, LightGCN and popularity.

Each generator is trained on the train split, scores the whole catalogue for every user, drops the
items the user has already seen and keeps the top K (default 20) for the valid and test splits:

    candidates/<generator>.parquet   user_id, split ("valid"|"test"), rank (1-based), item_id, score (float32)

For "valid" the user's train items are excluded (the target is the valid item); for "test" train and
valid items are excluded (the target is the test item): leave-one-out. These lists are what the persona
reranker reorders, so their recall@K (hit rate of the target within the top K) is the ceiling of any
reranker, and it is recorded in the workspace manifest with the training time and best epoch.

Entry point: `persona4rec.candidates.generate.generate_candidates(ws, "bpr"|"lightgcn"|"pop", ...)`.
"""

GENERATORS = ("bpr", "lightgcn", "pop")
