"""{% page_messages %}: the flash messages of a page, a job's message only while the job is in the state it describes."""
from typing import Any

from django import template
from django.contrib.messages import get_messages

from annotate.flash import job_binding
from curation.models import Job

register = template.Library()


@register.inclusion_tag("annotate/messages.html", takes_context=True)
def page_messages(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    pending = list(get_messages(request)) if request is not None else []
    bindings = {id(m): job_binding(m) for m in pending}
    job_ids = {b.job_id for b in bindings.values() if b is not None}
    states = dict(Job.objects.filter(pk__in=job_ids).values_list("pk", "state")) if job_ids else {}
    shown = []
    for message in pending:
        binding = bindings[id(message)]
        if binding is not None and states.get(binding.job_id) not in binding.states:
            continue  # the job has moved on since the message was written: the page shows its real state
        shown.append({"level": message.level_tag, "text": str(message), "binding": binding})
    return {"shown": shown}
