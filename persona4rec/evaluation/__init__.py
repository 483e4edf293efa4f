"""Evaluation: leave-one-out metrics of rankings, user/item segments, paired significance, tuning on VALID,
the bench and the report writer. The ranking metrics themselves (HR / MRR / NDCG @K) live in
persona4rec/metrics.py, below every package that scores a ranking.

    workspace_eval.py CF-only metrics of candidates/<generator>.parquet; evaluate_lists for any ranked lists
    segments.py       warm/cold users and head/tail items (top/bottom 20% by review count)
    significance.py   paired t-test, Wilcoxon signed-rank and bootstrap CI on per-user values
    tuning.py         the serving config (gamma, fusion weight, learned ranker) tuned on VALID
    bench/            `persona4rec bench`: the paper's tables on one workspace (see its __init__)
    latency.py        latency and scale measurements of the online path
    llm_listwise.py   the LLM listwise reranker baseline
    report.py         reports/report.md, metrics.json (merged by key) and plotly figures
(the authors' JSONL formats, evaluated as their eval.py does, are persona4rec/authors/evaluation.py.)
"""
