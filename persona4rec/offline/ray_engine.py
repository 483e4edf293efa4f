"""The Ray engine: the offline stages' batches as Ray Data batches on the workers of a Ray cluster.

`persona4rec offline ... --engine ray [--address ADDR] [--workers N]` runs on a `RayEngine`. It is the local
engine (offline/engine.py) with one part moved: `batch_results`, a batch's values, runs in a pool of Ray
actors, each with its own copy of the driver's backend, instead of in this process. Everything else stays
in the driver and is the local engine's own code: the stage's units, what is done or failed already,
values turned into records, records and failures appended in batch order, the manifest, clean stops.
Hence the same files, the same resume and the same `offline status` as the local engine.

How a stage runs: the pending units, cut into the local engine's batches, become a Ray Data dataset with
one block per batch (a row is one unit, an item, a review or an interaction, pickled); `map_batches` hands
each block to one of the `workers` actors, which returns the batch's results; the driver takes them as
they come, puts them back in batch order and writes each batch as the local engine does. A batch that
stopped (BudgetExceeded, LLMUnavailable) stops the stage once the batches before it are written.

What the LLM backend shares lives with the driver, in one actor on the driver's node (`Ledger`):
- the response cache, WS/llm_cache.sqlite. Workers look answers up and store them through the actor, and
  each answer is committed the moment it arrives, as locally, so a killed run loses only calls in flight.
  The file stays on the driver's disk and nothing else opens it: SQLite is not safe on a network file
  system, and the workspace need not be on the workers' nodes at all;
- the --max-cost budget (`llm.client.Budget`), one for the whole run, so the limit holds for all workers
  together rather than per worker.
A worker needs no workspace (a unit carries all of its input). Every node needs the same Python
environment (persona4rec[ray]), the encoder for the extractive backend (the bundled package, or a model
path present on every node), and a route to the LLM server (--base-url) for the llm backend.

Ray is optional (`pip install "persona4rec[ray]"`) and imported only here, when a RayEngine starts.
"""

from __future__ import annotations

import functools
import logging
import os
import pickle
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import BudgetExceeded, ConfigError, LLMUnavailable
from .engine import BatchOutcome, StageSpec, Unit, batch_results

log = logging.getLogger(__name__)

STOPS = {cls.__name__: cls for cls in (BudgetExceeded, LLMUnavailable)}  # clean stops, raised again here


class WorkerError(RuntimeError):
    """A batch raised on a Ray worker (not a clean stop): the stage fails, as the same error would fail it
    locally; the message carries the worker's traceback."""


def require_ray():
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(
            f'--engine ray needs Ray, which is not installed ({exc}): pip install "persona4rec[ray]"'
        ) from exc
    return ray


class RayEngine:
    """Runs stage batches on a Ray cluster: `address` None starts a local Ray on this machine (or joins the
    one RAY_ADDRESS names), else joins the cluster at HOST:PORT ("auto": the one running on this node).
    `workers`: actors per stage, one CPU each (default: the cluster's CPUs). A context manager: it starts
    Ray on entry unless Ray is already initialised in this process, and shuts down only what it started."""

    def __init__(self, address: str | None = None, workers: int | None = None):
        if address and address.startswith("ray://"):
            raise ConfigError(
                f"--address {address}: Ray Client addresses are not supported (the response cache and the "
                "records are written by the driver, on the node holding the workspace); run the command on a "
                "node of the cluster with --address HOST:PORT, or --address auto"
            )
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}")
        self.address = address
        self.workers = workers
        self._started = False
        self._ledgers: dict[tuple[str, float | None], Any] = {}

    # -- lifetime ----------------------------------------------------------------------------------
    def __enter__(self) -> RayEngine:
        ray = require_ray()
        if not ray.is_initialized():
            # Workers' output stays in Ray's session logs: a failed batch comes back with its traceback.
            options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
            if self.address is None and not os.environ.get("RAY_ADDRESS"):
                # A new single-machine instance: no dashboard, nothing listening beyond loopback, and a CPU
                # for each worker asked for (a fixed pool waits for all of its actors to start).
                options.update(include_dashboard=False, _node_ip_address="127.0.0.1")
                options["num_cpus"] = max(os.cpu_count() or 1, self.workers or 1)
            ray.init(address=self.address, **options)
            self._started = True
        import ray.data  # configures its loggers on import, so quieten them after it

        logging.getLogger("ray.data").setLevel(logging.WARNING)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the driver shows its own bar, per unit written
        context.print_on_execution_start = False
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if self.workers is None:
            self.workers = max(1, cpus)
        elif self.workers > cpus:
            log.warning("%d workers asked for, the cluster has %d CPUs: the pool waits for more", self.workers, cpus)
        log.info("Ray engine: %d worker(s) on %s", self.workers, ray.get_runtime_context().gcs_address)
        return self

    def __exit__(self, *exc_info) -> None:
        ray = require_ray()
        for ledger in self._ledgers.values():
            ray.get(ledger.close.remote())
            ray.kill(ledger)
        self._ledgers.clear()
        if self._started:
            ray.shutdown()
            self._started = False

    def describe(self) -> dict[str, Any]:
        ray = require_ray()
        return {"name": "ray", "address": ray.get_runtime_context().gcs_address, "workers": self.workers}

    # -- one stage ---------------------------------------------------------------------------------
    def map_batches(self, backend, spec: StageSpec, batches: list[list[Unit]]) -> Iterator[BatchOutcome]:
        """Each batch with its results, in batch order, computed on the workers (see the module docstring)."""
        if not batches:
            return
        ray = require_ray()
        import pyarrow as pa

        blocks = [
            pa.table({"batch": pa.array([n] * len(batch), pa.int64()), "unit": [pickle.dumps(u) for u in batch]})
            for n, batch in enumerate(batches)
        ]
        results = ray.data.from_arrow(blocks).map_batches(
            StageWorker,
            fn_constructor_kwargs={
                "make_backend": self._worker_backend(backend),
                "method": spec.method,
                "local": spec.local,
            },
            batch_size=None,  # one block, one engine batch, per call
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=min(self.workers, len(batches))),
            num_cpus=1,
        )
        arrived: dict[int, BatchResult] = {}
        next_batch = 0
        stream = iter(results.iter_batches(batch_size=None, batch_format="pyarrow"))  # a generator
        try:
            for table in stream:
                for n, payload in zip(table["batch"].to_pylist(), table["outcome"].to_pylist()):
                    if n >= next_batch:  # a batch retried after a lost worker comes back twice: keep one
                        arrived.setdefault(n, pickle.loads(payload))
                while next_batch in arrived:
                    yield batches[next_batch], arrived.pop(next_batch).unwrap()
                    next_batch += 1
        finally:
            stream.close()  # shuts the pool down now when the stage stopped early
        if next_batch != len(batches):
            raise WorkerError(f"Ray returned {next_batch} of {len(batches)} batches of {spec.name}")

    def _worker_backend(self, backend) -> Callable[[], Any]:
        """How a worker builds its own copy of the driver's backend (picklable, called once per actor)."""
        from .extractive import ExtractiveBackend

        if isinstance(backend, ExtractiveBackend):
            return functools.partial(
                type(backend),
                encoder=backend.encoder,
                domain=backend.domain,
                config=backend.config,
                batch_size=backend.batch_size,
            )
        from .llm_backend import LLMBackend

        if isinstance(backend, LLMBackend):
            ledger = self._ledger(str(backend.client.cache.path), backend.config.max_cost)
            if backend.config.api_key:
                ray = require_ray()
                ray.get(ledger.hold_api_key.remote(backend.config.api_key))
            return functools.partial(llm_worker_backend, keyless(backend.config), backend.domain, ledger)
        raise ConfigError(
            f"the Ray engine runs the extractive and llm backends; it cannot rebuild a {type(backend).__name__} "
            "on its workers"
        )

    def _ledger(self, cache_path: str, max_cost: float | None):
        """The run's one Ledger actor for this cache and budget, on the driver's node (where the file is)."""
        key = (cache_path, max_cost)
        if key not in self._ledgers:
            ray = require_ray()
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
            actor = ray.remote(num_cpus=0, scheduling_strategy=here)(Ledger)
            self._ledgers[key] = actor.remote(cache_path, max_cost)
        return self._ledgers[key]


# -- on the workers ------------------------------------------------------------------------------------


@dataclass
class BatchResult:
    """What a worker sends back for one batch: its results, or the clean stop or error that ended it."""

    results: dict | None = None
    stop: tuple[str, str] | None = None  # (BudgetExceeded | LLMUnavailable, message)
    error: str | None = None  # the worker's traceback

    def unwrap(self) -> dict:
        if self.stop is not None:
            kind, message = self.stop
            raise STOPS[kind](message)
        if self.error is not None:
            raise WorkerError(f"a batch failed on a Ray worker:\n{self.error}")
        return self.results


class StageWorker:
    """One Ray Data actor: builds its backend once, then answers whole batches with `batch_results`."""

    def __init__(self, make_backend: Callable[[], Any], method: str, local: Callable | None):
        self.backend = make_backend()
        self.method = method
        self.local = local

    def __call__(self, table):
        import pyarrow as pa

        batches: dict[int, list[Unit]] = {}  # a block is one batch; grouping keeps that true if Ray merges blocks
        for n, payload in zip(table["batch"].to_pylist(), table["unit"].to_pylist()):
            batches.setdefault(n, []).append(pickle.loads(payload))
        outcomes = [pickle.dumps(self._run(units)) for units in batches.values()]
        return pa.table({"batch": pa.array(list(batches), pa.int64()), "outcome": outcomes})

    def _run(self, units: list[Unit]) -> BatchResult:
        try:
            return BatchResult(results=batch_results(self.backend, self.method, self.local, units))
        except (BudgetExceeded, LLMUnavailable) as exc:
            return BatchResult(stop=(type(exc).__name__, str(exc)))
        except Exception:  # a bug or a bad unit: the driver fails the stage with this traceback
            return BatchResult(error=traceback.format_exc())


def keyless(config):
    """A copy of an LLMConfig without its API key, for the workers' task arguments: Ray keeps an actor's
    constructor arguments in its control store (and may spill objects to disk), and a secret must never be
    written in plain text. The workers ask the Ledger for the key instead (`llm_worker_backend`)."""
    copy = pickle.loads(pickle.dumps(config))  # not dataclasses.replace: __post_init__ would re-read the env
    copy.api_key = None
    return copy


def llm_worker_backend(config, domain: str, ledger):
    """A worker's LLM backend: its own client and connections, the driver's cache and budget, and the API
    key from the Ledger (a direct actor call: in memory, never stored), else the worker's own
    OPENAI_API_KEY."""
    import ray

    from .llm_backend import LLMBackend

    config.api_key = ray.get(ledger.api_key.remote()) or os.environ.get("OPENAI_API_KEY")
    return LLMBackend(None, config, domain, cache=RemoteCache(ledger), budget=RemoteBudget(ledger))


# -- the driver's shared state, and the workers' handles on it -----------------------------------------


class Ledger:
    """A Ray actor on the driver's node: the run's response cache (the one SQLite file) and budget. Ray runs
    one call at a time, so the cache and the budget see their calls in order."""

    def __init__(self, cache_path: str, max_cost: float | None):
        from ..llm.cache import ResponseCache
        from ..llm.client import Budget

        self.cache = ResponseCache(cache_path)
        self.budget = Budget(max_cost)
        self._api_key: str | None = None

    def hold_api_key(self, key: str) -> None:
        """The driver's API key, held in this process's memory only (see `keyless`)."""
        self._api_key = key

    def api_key(self) -> str | None:
        return self._api_key

    def get(self, key: str):
        return self.cache.get(key)

    def put(self, key: str, model: str, raw: str, prompt_tokens: int, completion_tokens: int) -> None:
        self.cache.put(key, model, raw, prompt_tokens, completion_tokens)

    def reserve(self, worst: float) -> str | None:
        """None when the call may go ahead, else why not (raised as BudgetExceeded by the worker)."""
        try:
            self.budget.reserve(worst)
        except BudgetExceeded as exc:
            return str(exc)
        return None

    def release(self, worst: float) -> None:
        self.budget.release(worst)

    def charge(self, cost: float) -> None:
        self.budget.charge(cost)

    def spent(self) -> float:
        return self.budget.spent

    def close(self) -> None:
        self.cache.close()


class RemoteCache:
    """ResponseCache's get/put, answered by the Ledger; `put` returns once the answer is committed."""

    def __init__(self, ledger):
        self.ledger = ledger

    def get(self, key: str):
        import ray

        return ray.get(self.ledger.get.remote(key))

    def put(self, key: str, model: str, raw: str, prompt_tokens: int, completion_tokens: int) -> None:
        import ray

        ray.get(self.ledger.put.remote(key, model, raw, prompt_tokens, completion_tokens))


class RemoteBudget:
    """llm.client.Budget's interface over the Ledger's one budget."""

    def __init__(self, ledger):
        self.ledger = ledger

    def reserve(self, worst: float) -> None:
        import ray

        refused = ray.get(self.ledger.reserve.remote(worst))
        if refused:
            raise BudgetExceeded(refused)

    def release(self, worst: float) -> None:
        import ray

        ray.get(self.ledger.release.remote(worst))

    def charge(self, cost: float) -> None:
        import ray

        ray.get(self.ledger.charge.remote(cost))

    @property
    def spent(self) -> float:
        import ray

        return ray.get(self.ledger.spent.remote())
