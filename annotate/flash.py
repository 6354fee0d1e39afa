"""Messages about a job: shown while the job is in the state they describe, dropped once it leaves it.

A plain confirmation ("Saved as version 2.") stays true and goes through django.contrib.messages as it is.
A message that says what a job is doing ("its ingest is queued") is added with `flash_job`: it carries the
job and the states it describes. The page leaves it out when the job is already elsewhere
(templatetags/page_messages.py), and static/js/app.js removes it when the job's progress bar on the page
(`id="job-<pk>"`, `data-state`) moves to another state, so "queued" never sits beside a Failed badge.
"""
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.messages.storage.base import Message
from django.http import HttpRequest

from curation.models import Job

JOB_TAG_PREFIX = "job:"
UNFINISHED = (Job.State.QUEUED, Job.State.RUNNING)


@dataclass(frozen=True)
class JobBinding:
    job_id: int
    states: tuple[str, ...]


def flash_job(request: HttpRequest, *, job: Job, text: str, states: Iterable[str] = (Job.State.QUEUED,),
              level: int = messages.SUCCESS) -> None:
    """A message true only while `job` is in one of `states` (by default: queued)."""
    messages.add_message(request, level, text, extra_tags=f"{JOB_TAG_PREFIX}{job.pk}:{','.join(states)}")


def job_binding(message: Message) -> JobBinding | None:
    """The job and states a message was bound to by flash_job, or None for a plain message."""
    for tag in (message.extra_tags or "").split():
        if tag.startswith(JOB_TAG_PREFIX):
            job_id, _, states = tag[len(JOB_TAG_PREFIX):].partition(":")
            if job_id.isdigit():
                return JobBinding(int(job_id), tuple(s for s in states.split(",") if s))
    return None
