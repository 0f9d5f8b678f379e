"""One function over partitions of customers, in this process or on Dask: the one place that
knows the engines. A stage that works a partition at a time (features, segment, snapshot) hands
its pure partition function and the partitions' arguments to `map_partitions` and gets the
results back in partition order, whichever engine ran them; so the engines give the same output.

Engines:
- `local`: in this process, `threads` partitions at once (parquet decoding and numpy release the
  GIL); memory is `threads` partitions.
- `dask`: as Dask tasks, on the cluster at `scheduler` (`tcp://HOST:8786`; else the address in
  the environment variable POWERLENS_DASK_SCHEDULER, so `dvc repro` can use a running cluster
  without a params change), else on a LocalCluster of two worker processes on 127.0.0.1 started
  for the call. The workers must see the data folder at the same path and import the same
  powerlens (docs/operations.md, "A cluster started by hand").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from powerlens.errors import InvalidInput

ENGINES = ("local", "dask")
SCHEDULER_ENV = "POWERLENS_DASK_SCHEDULER"


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise InvalidInput(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    return engine


def map_partitions(func: Callable[..., Any], tasks: Sequence[tuple], *, engine: str = "local",
                   scheduler: str | None = None, threads: int = 1, timeout: float = 10.0, name: str = "powerlens",
                   say: Callable[[str], Any] | None = None,
                   done: Callable[[int, Any], str] | None = None) -> list:
    """[func(*task) for task in tasks], in order, on `engine`. `say` hears progress: `done(i,
    result)` describes partition i when it is finished (default: "partition i/n")."""
    check_engine(engine)
    say = say or (lambda _message: None)
    done = done or (lambda i, _result: f"partition {i + 1}/{len(tasks)}")
    if engine == "local":
        return _locally(func, tasks, threads, say, done)
    return _on_dask(func, tasks, scheduler or os.environ.get(SCHEDULER_ENV) or None, timeout, name, say, done)


def _locally(func, tasks, threads, say, done) -> list:
    threads = max(1, min(int(threads), len(tasks)))
    results = []
    if threads == 1:
        iterator = (func(*task) for task in tasks)
    else:
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=threads)
        iterator = pool.map(lambda task: func(*task), tasks)  # results in task order
    try:
        for i, result in enumerate(iterator):
            results.append(result)
            say(done(i, result))
    finally:
        if threads > 1:
            pool.shutdown(cancel_futures=True)
    return results


def _on_dask(func, tasks, scheduler, timeout, name, say, done) -> list:
    """The tasks as Dask tasks; results gathered in task order."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=min(2, max(len(tasks), 1)), threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None, silence_logs=40)
        client = Client(cluster)
        say(f"started a local Dask cluster with {len(cluster.workers)} worker(s)")
    else:
        try:
            client = Client(scheduler, timeout=timeout)
        except OSError as exc:
            raise RuntimeError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        say(f"connected to the Dask scheduler at {scheduler}")
    try:
        futures = [client.submit(func, *task, key=f"{name}-{i}-{os.getpid()}", pure=False)
                   for i, task in enumerate(tasks)]
        index = {f.key: i for i, f in enumerate(futures)}
        for future in as_completed(futures):
            say(done(index[future.key], future.result()) + " (on Dask)")
        return client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
