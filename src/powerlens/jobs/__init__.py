"""One module per DVC stage: read inputs, call the domain, write outputs, log.

Each job has a `run(...)` that the CLI calls and a `main()` that `pipelines/<stage>.py` (the
DVC entry) calls. Jobs are the only place that sets process-wide state (matplotlib backend,
warning filters, MLflow environment): see `common.entry`.
"""
