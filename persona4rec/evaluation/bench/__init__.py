"""`persona4rec bench WS`: the paper's tables on one workspace, measured.

    result = run_bench(ws, BenchConfig(generators=("bpr", "lightgcn")))

Accuracy (TEST split, leave-one-out, every user with a test target; a user without candidates misses):
    Table 4   generators x rerankers (multi- and single-persona index; vanilla and fine-tuned encoder) x K,
              each reranker as the pure paper method (fusion weight 0) and as the fusion with the CF score
              whose weight was tuned on VALID; per-user paired tests (NDCG@10) against the generator.
    Table 5   warm/cold users, head/tail items @10 (segments.py; counts from the train split).
    Table 6   the summary-only index (e_i = E(summary)) against CF.
    Table 10  the number of personas: first-1/3/5/7 against all.
    Encoders  vanilla vs fine-tuned, multi-persona, pure method.
gamma is tuned on VALID per encoder and generator (multi-persona index); nothing is tuned on TEST.
Latency and scale: evaluation/latency.py. The LLM listwise baseline: evaluation/llm_listwise.py.

Outputs: reports/metrics.json["bench"], reports/latency.json, report.md sections with plotly figures.

Which module holds what:
    config.py     BenchConfig (what to run, its quick variant for tests) and BenchResult (what came out)
    inputs.py     ensure_inputs: candidates and the fine-tuned encoder, trained here when missing; encoder_label
    rows.py       AccuracyGrid: one accuracy row per generator x reranker, its paired tests against the
                  generator and against the strongest CF baseline (Holm / BH corrected)
    accuracy.py   the Table 4 grid: encoders x generators x index variants, tuned on VALID; serving.json
    ablations.py  the CF-only learned ranker, the adapter without each kind of negative, summary / first-k
    tables.py     the printed tables (caption -> DataFrame), cut from the rows and the latency record
    timing.py     measure_latency: latency.py's measurements on the primary reranker
    listwise.py   llm_baseline: the LLM listwise reranker on a few test users
    figures.py    the report's plotly figures
    report.py     the report sections and the JSON form of the rows
    run.py        run_bench: all of the above, in that order
"""

from .config import BenchConfig, BenchResult
from .run import run_bench

__all__ = ["BenchConfig", "BenchResult", "run_bench"]
