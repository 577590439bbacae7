"""Experiment grids: configurations x seeds -> a results table, with an on-disk cache.

A notebook describes each run as a plain ``dict`` of hyper-parameters (``{"cell": "lstm",
"units": 32}``) and a function ``run(config, seed) -> {metric: value}``. :func:`run_grid` calls it
for every (configuration, seed) pair that is not cached yet, and stores each finished result in its
own JSON file, keyed by a hash of the configuration, the seed, the data's fingerprint and the
rnnkit version. Re-running a notebook, or resuming an interrupted ``make run-all``, therefore skips
finished work; a changed dataset, configuration or rnnkit version trains again. A cache file that
cannot be read (killed mid-write on another filesystem, edited by hand) is reported and recomputed.

>>> results = run_grid(run, [{"cell": "lstm"}, {"cell": "gru"}], seeds=[0, 1, 2],
...                    data_fingerprint=fingerprint(x_train, y_train), name="stock")
>>> summarize(results, "test_mae", higher_is_better=False)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
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
    "fingerprint",
    "format_summary",
    "run_grid",
    "select",
    "summarize",
]

_RESERVED = ("seed", "seconds", "cached")


def default_cache_dir() -> Path:
    """``$RNNKIT_CACHE_DIR`` if set, else ``build/cache`` in the repository."""
    return build_dir("cache", env="RNNKIT_CACHE_DIR")


def fingerprint(*arrays: Any) -> str:
    """A short SHA-256 of arrays (dtype, shape and bytes) or other JSON-able values.

    Two datasets with the same fingerprint are byte-for-byte the same, so cached results computed
    on one are valid for the other.
    """
    digest = hashlib.sha256()
    for item in arrays:
        if isinstance(item, (np.ndarray, pd.Series, pd.DataFrame, pd.Index)):
            array = np.ascontiguousarray(np.asarray(item))
            if array.dtype == object:
                digest.update(json.dumps(array.tolist(), default=str).encode())
            else:
                digest.update(f"{array.dtype.str}{array.shape}".encode())
                digest.update(array.tobytes())
        else:
            digest.update(json.dumps(item, sort_keys=True, default=str).encode())
        digest.update(b"|")
    return digest.hexdigest()[:16]


def cache_key(config: Mapping[str, Any], *, seed: int, data_fingerprint: str, version: str | None = None) -> str:
    """The hash that names a (configuration, seed) result on disk."""
    if version is None:
        from rnnkit import __version__ as version
    payload = json.dumps(
        {"config": dict(config), "seed": seed, "data": data_fingerprint, "rnnkit": version},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


class ResultCache:
    """One JSON file per finished result in ``directory``; writes are atomic (temp file + rename)."""

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


def run_grid(
    run: Callable[[dict[str, Any], int], Mapping[str, Any]],
    configs: Iterable[Mapping[str, Any]],
    seeds: Sequence[int],
    *,
    data_fingerprint: str,
    name: str = "grid",
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    progress: bool = True,
) -> pd.DataFrame:
    """Run ``run(config, seed)`` for every configuration and seed; one row per run.

    Args:
        run: trains and evaluates one model; returns ``{metric: number}`` (e.g. ``test_mae``,
            ``epochs``). Keys must not clash with the configuration's or with
            ``seed``/``seconds``/``cached``.
        configs: hyper-parameter dicts with JSON-able values; every dict must have the same keys.
        seeds: e.g. ``[0, 1, 2]``.
        data_fingerprint: :func:`fingerprint` of the data ``run`` trains on.
        name: sub-folder of the cache and label of the progress bar.
        cache_dir: defaults to :func:`default_cache_dir`.
        use_cache: ``False`` always trains (and still stores the result).

    Returns:
        DataFrame with the configuration columns, ``seed``, the metrics, ``seconds`` (wall time
        of the run when it was computed) and ``cached`` (whether this call read it from disk).
    """
    from tqdm import tqdm  # the text bar: works in a terminal, a notebook and an HTML export alike

    from rnnkit import __version__

    configs = [dict(config) for config in configs]
    if not configs:
        raise ValueError("configs is empty")
    if not seeds:
        raise ValueError("seeds is empty")
    keys = list(configs[0])
    for config in configs:
        if list(config) != keys:
            raise ValueError(f"every config needs the same keys in the same order; {keys} vs {list(config)}")
        clash = [key for key in config if key in _RESERVED]
        if clash:
            raise ValueError(f"config keys {clash} are reserved for the results table")
    cache = ResultCache(Path(cache_dir if cache_dir is not None else default_cache_dir()) / name)
    rows = []
    jobs = [(config, int(seed)) for config in configs for seed in seeds]
    for config, seed in tqdm(jobs, desc=name, disable=not progress, leave=False, mininterval=30):
        key = cache_key(config, seed=seed, data_fingerprint=data_fingerprint, version=__version__)
        record = cache.get(key) if use_cache else None
        cached = record is not None
        if record is None:
            start = time.perf_counter()
            metrics = dict(run(dict(config), seed))
            seconds = time.perf_counter() - start
            clash = [key for key in metrics if key in config or key in _RESERVED]
            if clash:
                raise ValueError(f"run() returned metric names {clash} that clash with config keys")
            record = {"config": config, "seed": seed, "metrics": metrics, "seconds": seconds,
                      "data": data_fingerprint, "rnnkit": __version__}
            cache.put(key, record)
        rows.append({**config, "seed": seed, **record["metrics"], "seconds": record["seconds"], "cached": cached})
    return pd.DataFrame(rows)


def select(results: pd.DataFrame, configs: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The rows of a :func:`run_grid` table whose configuration is one of ``configs`` (all seeds)."""
    configs = [dict(config) for config in configs]
    if not configs:
        raise ValueError("configs is empty")
    columns = list(configs[0])
    wanted = {tuple(config.items()) for config in configs}
    keep = [tuple(row.items()) in wanted for row in results[columns].to_dict("records")]
    return results[keep]


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
