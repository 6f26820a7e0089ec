"""Contact jobs: thin wrappers around contacts.imports."""

from atiende.contacts import imports
from atiende.jobs import huey


@huey.task(retries=2, retry_delay=10, context=True)
def run_import_job(job_id: int, task=None) -> int:
    """Run (or continue) an import; a crash is retried and the rerun resumes at the checkpoint."""
    try:
        job = imports.run_import(job_id)
    except Exception as exc:
        imports.mark_import_failed(job_id, error=exc, final=task is None or not task.retries)
        raise
    return job.processed_rows
