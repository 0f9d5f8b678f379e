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
    return list(iter_partitions(func, tasks, engine=engine, scheduler=scheduler, threads=threads, timeout=timeout,
                                name=name, say=say, done=done, window=len(tasks) or 1))


def iter_partitions(func: Callable[..., Any], tasks: Sequence[tuple], *, engine: str = "local",
                    scheduler: str | None = None, threads: int = 1, timeout: float = 10.0, name: str = "powerlens",
                    say: Callable[[str], Any] | None = None, done: Callable[[int, Any], str] | None = None,
                    window: int = 4):
    """func(*task) for each task, yielded in task order as each is ready, with at most `window`
    tasks submitted ahead (Dask) or `threads` at once (local): a consumer that writes each result
    away keeps memory to a few partitions, whichever engine computes them."""
    check_engine(engine)
    say = say or (lambda _message: None)
    done = done or (lambda i, _result: f"partition {i + 1}/{len(tasks)}")
    if engine == "local":
        yield from _locally(func, tasks, threads, say, done)
    else:
        yield from _on_dask(func, tasks, scheduler or os.environ.get(SCHEDULER_ENV) or None, timeout, name, say,
                            done, max(int(window), 1))


def _locally(func, tasks, threads, say, done):
    threads = max(1, min(int(threads), len(tasks) or 1))
    if threads == 1:
        for i, task in enumerate(tasks):
            result = func(*task)
            say(done(i, result))
            yield result
        return
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=threads)
    try:
        for i, result in enumerate(pool.map(lambda task: func(*task), tasks)):  # in task order
            say(done(i, result))
            yield result
    finally:
        pool.shutdown(cancel_futures=True)


def _on_dask(func, tasks, scheduler, timeout, name, say, done, window):
    """The tasks as Dask tasks, `window` in flight; results yielded in task order."""
    from dask.distributed import Client, LocalCluster

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
        def submit(i):
            return client.submit(func, *tasks[i], key=f"{name}-{i}-{os.getpid()}", pure=False)

        pending = [submit(i) for i in range(min(window, len(tasks)))]
        for i in range(len(tasks)):
            future = pending.pop(0)
            if i + len(pending) + 1 < len(tasks):
                pending.append(submit(i + len(pending) + 1))
            result = future.result()
            future.release()
            say(done(i, result) + " (on Dask)")
            yield result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
