"""The strategy report: it presents, the pipeline computes.

`tables` (region cuts, suppression, the tier matrix, migration...), `figures` (every plot),
`rendering` (papermill + nbconvert, offline HTML, the index) and `backfill` (a range of
periods in parallel). The report notebook reads a period's snapshot
(`powerlens.snapshots.load_snapshot`) and imports only `tables` and `figures`.
"""
