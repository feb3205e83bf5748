"""The classify commands on a Dask cluster (`--dask`; the `dask` extra).

The client plans deterministic parts (byte ranges of CSV files, row groups of Parquet
files, batches of image paths) and submits one task per part; each worker process
loads the model once and runs the same classify core as a local run, writing its part
file atomically; the client records each finished part and writes `_SUCCESS` last.
Inputs and the output folder may be fsspec URLs (urls.py, urlwalk.py, urloutdir.py).
Only `options` is imported without `--dask`: it imports nothing of Dask.
"""
