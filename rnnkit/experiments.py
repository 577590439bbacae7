"""Experiment grids: configurations x seeds -> a results table, with an on-disk cache that cannot
serve stale numbers, run on every core.

A task module (``rnnkit.tasks.<task>``) describes one run by a frozen dataclass ``Config`` and a
function ``run(config, seed, data) -> {metric: value, "history": {...}}``. :func:`run_grid` calls it
for every (configuration, seed) pair that is not cached yet and stores each finished result in its
own JSON file. The file's name is a hash of *everything that changes a result*:

* the configuration's class and every field (``dataclasses.asdict``),
* the seed,
* a fingerprint of the data (:func:`fingerprint`, bytes of every array),
* the run function (its module and name; its source too when it is not part of rnnkit),
* a hash of every rnnkit source file (:func:`source_hash`), so editing the package retrains,
* the keras, jax and numpy versions.

The pairs run in ``n_jobs`` worker processes through joblib (``loky``): each worker runs XLA on a
single thread and is pinned to a core of its own, which trains more sequences per second in total
than one process spread over every core. Because every run sees exactly one core, its arithmetic
(and so its numbers) is the same for ``n_jobs=1`` and ``n_jobs=8``. Another joblib backend (e.g.
Dask on a cluster) is used when set with ``joblib.parallel_config``. ``inline=True`` runs in this
process instead (for debugging): XLA then splits work over all of this process's cores, which can
change the last bits of a result.

>>> from rnnkit.tasks import stock
>>> data = stock.load_data()
>>> configs = [dataclasses.replace(stock.Config(), cell=cell) for cell in ("lstm", "gru")]
>>> results = run_grid(stock.run, configs, seeds=[0, 1, 2], data=data, name="02_stock")
>>> summarize(results, "val_mae", higher_is_better=False)
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import math
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnkit.data.files import build_dir, write_text_atomic

__all__ = [
    "ResultCache",
    "cache_key",
    "default_cache_dir",
    "default_n_jobs",
    "fingerprint",
    "format_summary",
    "one_standard_error_rule",
    "ranking_verdict",
    "run_grid",
    "select",
    "source_hash",
    "summarize",
]

_RESERVED = ("seed", "seconds", "cached")
_PACKAGE_DIR = Path(__file__).resolve().parent
#: XLA on one thread: with one worker per core, threads inside a worker only compete.
SINGLE_THREAD_XLA_FLAG = "--xla_cpu_multi_thread_eigen=false"


def default_cache_dir() -> Path:
    """``$RNNKIT_CACHE_DIR`` if set, else ``build/cache`` in the repository."""
    return build_dir("cache", env="RNNKIT_CACHE_DIR")


def default_n_jobs() -> int:
    """``$RNNKIT_N_JOBS`` if set, else the number of cores this process may use."""
    if os.environ.get("RNNKIT_N_JOBS"):
        n_jobs = int(os.environ["RNNKIT_N_JOBS"])
        if n_jobs < 1:
            raise ValueError(f"RNNKIT_N_JOBS must be >= 1, got {n_jobs}")
        return n_jobs
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _hash_into(digest: Any, value: Any) -> None:
    """Feed ``value`` into ``digest``: arrays by dtype, shape and bytes; dataclasses and plain
    objects field by field; containers recursively; scalars and strings as JSON."""
    if isinstance(value, (pd.Series, pd.DataFrame, pd.Index)):
        value = value.to_numpy()
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        if array.dtype == object:
            digest.update(json.dumps(array.tolist(), default=str).encode())
        else:
            digest.update(f"ndarray{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())
        return
    try:  # the fast path: plain JSON data (lists of sentences, vocabularies' token lists, ...)
        digest.update(json.dumps(value, sort_keys=True).encode())
        return
    except (TypeError, ValueError):
        pass
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__qualname__.encode())
        for item in dataclasses.fields(value):
            digest.update(item.name.encode())
            _hash_into(digest, getattr(value, item.name))
    elif isinstance(value, Mapping):
        for key in sorted(value, key=str):
            digest.update(str(key).encode())
            _hash_into(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}{len(value)}".encode())
        for item in value:
            _hash_into(digest, item)
    elif isinstance(value, np.generic):
        _hash_into(digest, value.item())
    elif hasattr(value, "__dict__"):
        digest.update(type(value).__qualname__.encode())
        _hash_into(digest, vars(value))
    else:
        raise TypeError(f"cannot fingerprint a {type(value).__name__}")
    digest.update(b"|")


def fingerprint(*values: Any) -> str:
    """A short SHA-256 of arrays, dataclasses, containers and JSON-able values.

    Two datasets with the same fingerprint are byte-for-byte the same, so cached results computed
    on one are valid for the other.
    """
    digest = hashlib.sha256()
    for value in values:
        _hash_into(digest, value)
        digest.update(b"||")
    return digest.hexdigest()[:16]


def source_hash(package_dir: str | os.PathLike = _PACKAGE_DIR) -> str:
    """SHA-256 of every ``*.py`` file under the rnnkit package (path and bytes): any edit to the
    package's code changes it."""
    digest = hashlib.sha256()
    package_dir = Path(package_dir)
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(path.relative_to(package_dir).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    """The versions of the libraries whose arithmetic a result depends on."""
    import jax
    import keras

    return {"keras": keras.__version__, "jax": jax.__version__, "numpy": np.__version__}


def _config_dict(config: Any) -> dict[str, Any]:
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"a configuration must be a dataclass instance (a task's Config), got {type(config).__name__}")
    return dataclasses.asdict(config)


def run_identity(run: Callable) -> str:
    """``module.qualname`` of ``run``; for code outside rnnkit (a notebook cell) its source too,
    since :func:`source_hash` does not cover it."""
    name = f"{getattr(run, '__module__', '?')}.{getattr(run, '__qualname__', type(run).__qualname__)}"
    if not name.startswith("rnnkit."):
        try:
            name += "\n" + inspect.getsource(run)
        except (OSError, TypeError):
            name += "\n" + repr(run)
    return name


def cache_key(config: Any, *, seed: int, data_fingerprint: str, run: str = "", sources: str | None = None,
              versions: Mapping[str, str] | None = None) -> str:
    """The hash that names a (configuration, seed) result on disk; see the module docstring."""
    payload = json.dumps(
        {"config_class": f"{type(config).__module__}.{type(config).__qualname__}", "config": _config_dict(config),
         "seed": int(seed), "data": data_fingerprint, "run": run,
         "rnnkit": source_hash() if sources is None else sources,
         "versions": dict(library_versions() if versions is None else versions)},
        sort_keys=True, default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


class ResultCache:
    """One JSON file per finished result in ``directory``; writes are atomic (temp file + rename),
    so two processes finishing the same entry at once leave one complete file."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored record, or ``None`` if absent. A corrupt file is warned about and removed."""
        path = self.path(key)
        if not path.exists():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(record, dict) or not isinstance(record.get("metrics"), dict):
                raise ValueError("expected an object with a 'metrics' object")
        except (ValueError, UnicodeDecodeError) as error:
            warnings.warn(f"corrupt cache entry {path} ({error}); recomputing it", stacklevel=2)
            path.unlink(missing_ok=True)
            return None
        return record

    def put(self, key: str, record: Mapping[str, Any]) -> Path:
        """Write ``record`` atomically: readers see the old file or the complete new one."""
        return write_text_atomic(self.path(key), json.dumps(record, sort_keys=True, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in the results cache")


def _plain(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The metrics as they come back from the cache (JSON types), so a fresh and a cached row agree."""
    return json.loads(json.dumps(dict(metrics), default=_json_default))


# --- worker processes -------------------------------------------------------------------------------

_CORE_LOCK: Any = None  # in a worker: the open lock file that reserves its core (False: none free)
#: cache keys this process stored: a later hit on one of them is a result of this run, reused
_STORED_HERE: set[str] = set()


def _compilation_cache_dir() -> str | None:
    """The persistent XLA cache this process uses (``training.enable_compilation_cache``), if any."""
    import sys

    if "jax" not in sys.modules:
        return None
    import jax

    return jax.config.jax_compilation_cache_dir or None


def _pin_worker_to_a_core(pool: str) -> None:
    """In a worker process: XLA on one thread, and the process pinned to one core.

    The workers of one grid (``pool``: the parent's id) reserve cores with ``flock`` on files named
    after the pool, so no two of them share a core while there are enough; the OS drops a dead
    worker's lock. A worker that finds every core taken shares one: every run still sees exactly
    one core, so its arithmetic — and its numbers — are the same as on any other worker.
    """
    global _CORE_LOCK
    if _CORE_LOCK is not None:
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if SINGLE_THREAD_XLA_FLAG not in flags:  # effective if this worker has not initialised XLA yet
        os.environ["XLA_FLAGS"] = f"{flags} {SINGLE_THREAD_XLA_FLAG}".strip()
    _CORE_LOCK = False
    if not hasattr(os, "sched_setaffinity"):
        return
    import fcntl

    cores = sorted(os.sched_getaffinity(0))
    lock_dir = Path(tempfile.gettempdir()) / f"rnnkit-cores-{pool}"
    lock_dir.mkdir(exist_ok=True)
    for core in cores:
        handle = open(lock_dir / f"core-{core}.lock", "w")  # noqa: SIM115 - held for the worker's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        os.sched_setaffinity(0, {core})
        _CORE_LOCK = handle
        return
    os.sched_setaffinity(0, {cores[os.getpid() % len(cores)]})  # all taken: share one


def _run_in_worker(run: Callable, config: Any, seed: int, data: Any, compilation_cache: str | None = None,
                   pool: str = "default") -> tuple[dict[str, Any], float, int | None]:
    """One (config, seed) job inside a worker: returns (metrics, seconds, core or None)."""
    _pin_worker_to_a_core(pool)
    if compilation_cache:  # share the parent's compiled programs (another seed compiles to the same one)
        from rnnkit.training import enable_compilation_cache

        enable_compilation_cache(compilation_cache)
    start = time.perf_counter()
    metrics = run(config, seed, data)
    seconds = time.perf_counter() - start
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    return _plain(metrics), seconds, (min(cores) if len(cores) == 1 else None)


def _check_metrics(metrics: Mapping[str, Any], config_fields: Sequence[str]) -> None:
    clash = [name for name in metrics if name in config_fields or name in _RESERVED or name == "config"]
    if clash:
        raise ValueError(f"run() returned metric names {clash} that clash with config fields or "
                         f"{_RESERVED + ('config',)}")


def run_grid(
    run: Callable[[Any, int, Any], Mapping[str, Any]],
    configs: Iterable[Any],
    seeds: Sequence[int],
    *,
    data: Any,
    name: str = "grid",
    n_jobs: int | None = None,
    inline: bool = False,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    progress: bool = True,
) -> pd.DataFrame:
    """Run ``run(config, seed, data)`` for every configuration and seed; one row per run.

    Args:
        run: trains and evaluates one model (a task module's ``run``); returns
            ``{metric: number, ..., "history": {"loss": [...], ...}}``. Names must not clash with
            the config's fields or with ``seed``/``seconds``/``cached``/``config``.
        configs: frozen dataclass instances of one class (a task's ``Config``).
        seeds: e.g. ``[0, 1, 2]``.
        data: what ``run`` trains on; its :func:`fingerprint` is part of every cache key.
        name: sub-folder of the cache and label of the progress bar.
        n_jobs: worker processes, each on one core (default :func:`default_n_jobs`: every core).
            Only the pairs not in the cache are sent to workers.
        inline: run in this process, one pair after another (debugging; see the module docstring).
        cache_dir: defaults to :func:`default_cache_dir`.
        use_cache: ``False`` always trains (and still stores the result).

    Returns:
        DataFrame in (config, seed) order with the config's fields as columns, ``seed``, the
        metrics (``history`` as a dict per row), ``seconds`` (wall time of the run when it was
        computed), ``cached`` (read from disk by this call) and ``config`` (the Config object).
    """
    from tqdm import tqdm  # the text bar: works in a terminal, a notebook and an HTML export alike

    configs = list(configs)
    if not configs:
        raise ValueError("configs is empty")
    if not seeds:
        raise ValueError("seeds is empty")
    config_class = type(configs[0])
    for config in configs:
        fields = _config_dict(config)
        if type(config) is not config_class:
            raise ValueError(f"every config must be a {config_class.__qualname__}, got {type(config).__qualname__}")
        clash = [field for field in fields if field in (*_RESERVED, "config")]
        if clash:
            raise ValueError(f"config fields {clash} are reserved for the results table")
    field_names = list(_config_dict(configs[0]))
    cache = ResultCache(Path(cache_dir if cache_dir is not None else default_cache_dir()) / name)
    data_fingerprint, sources, identity = fingerprint(data), source_hash(), run_identity(run)
    jobs = [(config, int(seed)) for config in configs for seed in seeds]
    keys = [cache_key(config, seed=seed, data_fingerprint=data_fingerprint, run=identity, sources=sources)
            for config, seed in jobs]
    records: list[dict[str, Any] | None] = [cache.get(key) if use_cache else None for key in keys]
    cached = [record is not None for record in records]
    # Seed-major order: every configuration's first seed runs before any second seed. Workers busy at the
    # same time then compile different programs, and a configuration's later seeds find its compiled
    # steps in the shared persistent XLA cache (config-major order had two workers compile the same
    # programs side by side). Only the order changes: each job's result is the same, rows stay in
    # (configuration, seed) order.
    todo = sorted((index for index, record in enumerate(records) if record is None),
                  key=lambda index: (index % len(seeds), index // len(seeds)))

    def store(index: int, metrics: dict[str, Any], seconds: float) -> None:
        _check_metrics(metrics, field_names)
        config, seed = jobs[index]
        record = {"config_class": config_class.__qualname__, "config": _config_dict(config), "seed": seed,
                  "metrics": metrics, "seconds": seconds, "data": data_fingerprint, "rnnkit": sources,
                  "versions": library_versions()}
        cache.put(keys[index], record)
        _STORED_HERE.add(keys[index])
        records[index] = record

    n_jobs = min(default_n_jobs() if n_jobs is None else n_jobs, max(len(todo), 1))
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be >= 1, got {n_jobs}")
    reused = sum(was_cached and key in _STORED_HERE for was_cached, key in zip(cached, keys, strict=True))
    from_disk = len(jobs) - len(todo) - reused
    bar = tqdm(total=len(todo), desc=f"{name}: {reused} reused from this run, {from_disk} from the cache, training",
               disable=not progress or not todo, leave=False, mininterval=30)
    if inline:
        for index in todo:
            config, seed = jobs[index]
            start = time.perf_counter()
            metrics = _plain(run(config, seed, data))
            store(index, metrics, time.perf_counter() - start)
            bar.update()
    elif todo:
        from joblib import Parallel, delayed

        compilation_cache, pool = _compilation_cache_dir(), f"{os.getpid()}"
        previous = os.environ.get("XLA_FLAGS")  # loky workers inherit it when they start
        os.environ["XLA_FLAGS"] = f"{previous or ''} {SINGLE_THREAD_XLA_FLAG}".strip()
        try:
            if n_jobs == 1:  # joblib would run n_jobs=1 in this process: use one loky worker directly
                from joblib.executor import get_memmapping_executor

                executor = get_memmapping_executor(1)
                outputs = (future.result() for future in
                           [executor.submit(_indexed, index, run, *jobs[index], data, compilation_cache, pool)
                            for index in todo])
            else:
                parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
                outputs = parallel(delayed(_indexed)(index, run, *jobs[index], data, compilation_cache, pool)
                                   for index in todo)
            with warnings.catch_warnings():
                # loky replaces a worker whose memory grew (JAX's compiled programs) and says so with a warning
                # that reads like a failure; every job still completes (a failed job raises).
                warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given to the executor")
                for index, (metrics, seconds, _core) in outputs:
                    store(index, metrics, seconds)
                    bar.update()
        finally:
            if previous is None:
                os.environ.pop("XLA_FLAGS", None)
            else:
                os.environ["XLA_FLAGS"] = previous
    bar.close()
    rows = []
    for (config, seed), record, was_cached in zip(jobs, records, cached, strict=True):
        rows.append({**_config_dict(config), "seed": seed, **record["metrics"], "seconds": record["seconds"],
                     "cached": was_cached, "config": config})
    return pd.DataFrame(rows)


def _indexed(index: int, run: Callable, config: Any, seed: int, data: Any, compilation_cache: str | None, pool: str):
    return index, _run_in_worker(run, config, seed, data, compilation_cache, pool)


def select(results: pd.DataFrame, configs: Iterable[Any]) -> pd.DataFrame:
    """The rows of a :func:`run_grid` table whose configuration is one of ``configs`` (all seeds),
    in the table's order."""
    configs = list(configs)
    if not configs:
        raise ValueError("configs is empty")
    wanted = set(configs)
    return results[[config in wanted for config in results["config"]]]


def summarize(
    results: pd.DataFrame,
    metric: str,
    *,
    by: Sequence[str] | None = None,
    higher_is_better: bool = True,
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Mean and standard deviation over seeds per configuration, best ``metric`` first.

    Args:
        results: the output of :func:`run_grid`.
        metric: the column to sort by.
        by: configuration columns (default: every column before ``seed``).
        metrics: the numeric columns to summarise (default: all numeric non-config columns).

    Returns:
        One row per configuration (index: ``by``), columns ``<m>`` (mean) and ``<m>_std`` (sample
        std, NaN for one seed) for each metric, and ``seeds``.
    """
    if metric not in results.columns:
        raise ValueError(f"no column {metric!r} in results; columns are {list(results.columns)}")
    if by is None:
        by = list(results.columns[: list(results.columns).index("seed")])
    by = list(by)
    if metrics is None:
        metrics = [
            column for column in results.columns
            if column not in (*by, "seed", "cached") and pd.api.types.is_numeric_dtype(results[column])
        ]
    metrics = list(dict.fromkeys([metric, *metrics]))
    grouped = results.groupby(by, sort=False, dropna=False)[metrics]
    means, stds = grouped.mean(), grouped.std(ddof=1)
    table = pd.DataFrame(index=means.index)
    for column in metrics:
        table[column] = means[column]
        table[f"{column}_std"] = stds[column]
    table["seeds"] = grouped.size()
    return table.sort_values(metric, ascending=not higher_is_better, kind="stable")


def ranking_verdict(table: pd.DataFrame, metric: str, *, higher_is_better: bool = True,
                    confidence: float = 0.95) -> dict[str, Any]:
    """Is the best configuration of a :func:`summarize` table ahead of the runner-up beyond the
    seed-to-seed spread?

    Welch's t-test on the two means over seeds: the gap must exceed ``t * SE``, where
    ``SE = sqrt(std_best**2 / n_best + std_next**2 / n_next)`` and ``t`` is the two-sided
    ``confidence`` quantile of Student's t with Welch's degrees of freedom (about 4.3 for two
    configurations of 3 seeds at 95 %, not 2: three seeds say little). With one seed there is no
    spread to compare with, and the answer is ``False``.
    Returns ``{"best", "runner_up", "gap", "noise", "beyond_noise"}`` (``noise = t * SE``).
    """
    from scipy.stats import t as student_t

    if len(table) < 2:
        raise ValueError("a ranking needs at least two configurations")
    ordered = table.sort_values(metric, ascending=not higher_is_better, kind="stable")
    best, runner_up = ordered.iloc[0], ordered.iloc[1]
    gap = abs(float(best[metric]) - float(runner_up[metric]))
    parts = [best[f"{metric}_std"] ** 2 / best["seeds"], runner_up[f"{metric}_std"] ** 2 / runner_up["seeds"]]
    noise = math.nan
    if all(np.isfinite(parts)) and min(best["seeds"], runner_up["seeds"]) > 1:
        standard_error = math.sqrt(sum(parts))
        if standard_error == 0:
            noise = 0.0
        else:
            freedom = sum(parts) ** 2 / (parts[0] ** 2 / (best["seeds"] - 1) + parts[1] ** 2 / (runner_up["seeds"] - 1))
            noise = float(student_t.ppf(0.5 + confidence / 2, freedom) * standard_error)
    return {"best": ordered.index[0], "runner_up": ordered.index[1], "gap": gap, "noise": noise,
            "beyond_noise": bool(np.isfinite(noise) and gap > noise)}


def one_standard_error_rule(table: pd.DataFrame, metric: str, cost: Mapping[Any, float] | pd.Series, *,
                            higher_is_better: bool = True) -> dict[str, Any]:
    """Model selection by the one-standard-error rule (Hastie, Tibshirani & Friedman, *Elements
    of Statistical Learning*, section 7.10): the cheapest configuration whose mean ``metric`` is
    within one standard error of the best mean.

    The window is set by the **best** configuration alone (``SE = std_best / sqrt(seeds_best)``),
    so a configuration whose own seeds scatter widely is not admitted for being noisy. Ties in
    ``cost`` go to the better mean.

    Args:
        table: a :func:`summarize` table (``metric``, ``<metric>_std`` and ``seeds`` columns).
        cost: for every row of ``table`` (same index), a deterministic cost such as a weight count.

    Returns:
        ``{"best", "threshold", "candidates" (index labels, best first), "selected"}``. With one
        seed the standard error is unknown: only the best is a candidate.
    """
    if table.empty:
        raise ValueError("the table has no configurations to select from")
    cost = pd.Series(cost)
    missing = [label for label in table.index if label not in cost.index]
    if missing:
        raise ValueError(f"no cost given for {missing}")
    ordered = table.sort_values(metric, ascending=not higher_is_better, kind="stable")
    best = ordered.iloc[0]
    standard_error = best[f"{metric}_std"] / math.sqrt(best["seeds"])
    if not np.isfinite(standard_error):
        standard_error = 0.0
    sign = 1 if higher_is_better else -1
    threshold = float(best[metric] - sign * standard_error)
    admitted = ordered[sign * (ordered[metric] - threshold) >= 0]
    selected = min(admitted.index, key=lambda label: (cost[label], -sign * admitted.loc[label, metric]))
    return {"best": ordered.index[0], "threshold": threshold, "candidates": list(admitted.index), "selected": selected}


def format_summary(table: pd.DataFrame, *, digits: int = 4) -> pd.DataFrame:
    """``mean ± std`` strings for display: one column per metric of :func:`summarize`'s table."""
    shown = pd.DataFrame(index=table.index)
    for column in table.columns:
        if column.endswith("_std") or column == "seeds":
            continue
        std_column = f"{column}_std"
        shown[column] = [
            _plus_minus(mean, table[std_column].iloc[i] if std_column in table else math.nan, digits)
            for i, mean in enumerate(table[column])
        ]
    shown["seeds"] = table["seeds"]
    return shown


def _plus_minus(mean: float, std: float, digits: int) -> str:
    if isinstance(std, float) and math.isnan(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"
