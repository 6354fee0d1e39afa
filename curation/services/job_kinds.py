"""The registry of job kinds: the one list of long steps, each with its label, its task and its queue.

A capability adds one line here when it lands. Services enqueue a job by its kind (services/jobs.py
looks the task up by name), so the domain never imports the worker layer.
"""
from dataclasses import dataclass

from curation.errors import ApplicationError


class UnknownJobKind(ApplicationError):
    code = "unknown_job_kind"
    status = 500


@dataclass(frozen=True)
class JobKind:
    key: str
    label: str
    task: str  # the Celery task's registered name (workers/tasks/...)
    queue: str  # io, cpu or gpu (config/settings.py CELERY_TASK_QUEUES)
    # A domain service by dotted name, called as f(job=job) when a job that no worker runs (queued, or its worker
    # died) is cancelled: it leaves the target as a worker that saw the cancel would have (an export failed and its
    # half-written files removed, a scan failed). Named, not imported, like the task: services/jobs.py stays below
    # the services that own the targets.
    settle: str = ""


JOB_KINDS: dict[str, JobKind] = {}


def register_job_kind(kind: JobKind) -> JobKind:
    if kind.key in JOB_KINDS and JOB_KINDS[kind.key] != kind:
        raise ValueError(f"job kind {kind.key!r} is registered twice")
    JOB_KINDS[kind.key] = kind
    return kind


def job_kind_get(key: str) -> JobKind:
    try:
        return JOB_KINDS[key]
    except KeyError:
        raise UnknownJobKind(f"no job kind {key!r} is registered") from None


def job_kind_label(key: str) -> str:
    kind = JOB_KINDS.get(key)
    return kind.label if kind else key


INGEST = register_job_kind(JobKind("ingest", "Ingest source", "workers.tasks.ingest.ingest_source", "io",
                                   settle="curation.services.ingest.source_ingest_cancelled"))
SUGGEST_MAPPING = register_job_kind(
    JobKind("suggest_mapping", "Suggest mapping", "workers.tasks.mapping.suggest_mapping", "cpu")
)
APPLY_MAPPING = register_job_kind(JobKind("apply_mapping", "Apply mapping", "workers.tasks.mapping.apply_mapping", "cpu",
                                          settle="curation.services.mapping_build.mapping_apply_cancelled"))
BULK_DECIDE = register_job_kind(JobKind("bulk_decide", "Bulk decision", "workers.tasks.review.review_bulk_decide", "cpu"))
QUEUE_FILL = register_job_kind(JobKind("queue_fill", "Fill review queue", "workers.tasks.review.review_queue_fill", "cpu"))
EXPORT = register_job_kind(JobKind("export", "Export", "workers.tasks.exports.export_build", "io",
                                   settle="curation.services.exports.export_cancelled"))
EMBED_IMAGES = register_job_kind(JobKind("embed_images", "Embed images", "workers.tasks.dedup.embed_images", "gpu",
                                         settle="curation.services.dedup.dedup_job_cancelled"))
EMBED_BATCH = register_job_kind(JobKind("embed_batch", "Embed image batch", "workers.tasks.dedup.embed_batch", "gpu",
                                        settle="curation.services.dedup.dedup_job_cancelled"))
DEDUP_SEARCH = register_job_kind(JobKind("dedup_search", "Search copies", "workers.tasks.dedup.dedup_search", "cpu",
                                         settle="curation.services.dedup.dedup_job_cancelled"))
DEDUP_SEARCH_BATCH = register_job_kind(
    JobKind("dedup_search_batch", "Search copies batch", "workers.tasks.dedup.dedup_search_batch", "cpu",
            settle="curation.services.dedup.dedup_job_cancelled")
)
BENCHMARK_REGISTER = register_job_kind(
    JobKind("benchmark_register", "Register benchmark", "workers.tasks.dedup.benchmark_register", "io")
)
SUGGEST_ACTIONS = register_job_kind(JobKind("suggest_actions", "Suggest action mapping", "workers.tasks.actions.suggest_action_mapping", "cpu"))
APPLY_ACTIONS = register_job_kind(JobKind("apply_actions", "Apply action mapping", "workers.tasks.actions.apply_action_mapping", "cpu"))
HARD_NEGATIVES = register_job_kind(
    JobKind("hard_negatives", "Generate hard negatives", "workers.tasks.hard_negatives.hard_negatives_generate", "cpu")
)
RATE_QUALITY = register_job_kind(JobKind("rate_quality", "Rate quality", "workers.tasks.ratings.ratings_run", "cpu"))
