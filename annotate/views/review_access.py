"""Access to review pages: the request type their views see, and the one access helper for queues."""
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django_htmx.middleware import HtmxDetails

from curation.models import ReviewQueue
from curation.services.review import review_queue_workable


class ReviewRequest(HttpRequest):
    """A request of a login_required review view: a signed-in user, and django-htmx's details."""

    user: User
    htmx: HtmxDetails


def queue_for_worker(request: ReviewRequest, queue_id: int) -> ReviewQueue:
    """The queue, if this user may work it: 404 when it does not exist, 403 when it is not theirs."""
    queue = get_object_or_404(ReviewQueue.objects.select_related("subset"), pk=queue_id)
    if not review_queue_workable(queue=queue, user=request.user):
        raise PermissionDenied("This queue is closed or assigned to other reviewers.")
    return queue
