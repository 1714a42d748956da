"""`attune batch`: many recordings reviewed on Dask distributed, one table, resumable (docs/batch.md).

jobs.py     the recordings of a folder or a CSV manifest, their settings and keys
task.py     one recording on a worker: review_file, its files, its table rows
index.py    DIR/index.jsonl: what is done, so that a rerun skips it
table.py    the table's columns; Parquet and CSV
engine.py   the Dask client (LocalCluster or a scheduler address), submit / as_completed, retries
overview.py the --report page: distributions across recordings and outliers
"""

from .engine import BatchResult, batch_config, dask_client, default_workers, run_batch
from .jobs import MANIFEST_COLUMNS, Job, Settings, find_jobs
from .table import COLUMNS, read_table, write_table
from .task import Outcome, review_job

__all__ = ["COLUMNS", "MANIFEST_COLUMNS", "BatchResult", "Job", "Outcome", "Settings", "batch_config",
           "dask_client", "default_workers", "find_jobs", "read_table", "review_job", "run_batch", "write_table"]
