"""Evaluation: ranking metrics under leave-one-out, user/item segments, paired significance, the paper
authors' JSONL formats, and the report writer.

    metrics.py        HR / MRR / NDCG @K, overall and per user
    segments.py       warm/cold users and head/tail items (top/bottom 20% by review count)
    significance.py   paired t-test, Wilcoxon signed-rank and bootstrap CI on per-user values
    authors.py        the authors' gt/candidate JSONL files, evaluated exactly as their eval.py does
    workspace_eval.py CF-only metrics of candidates/<generator>.parquet; evaluate_lists for any ranked lists
    report.py         reports/report.md, metrics.json (merged by key) and plotly figures
(the latency benchmarks of `persona4rec bench` belong here too, in their own module.)
"""
