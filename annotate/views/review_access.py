"""Access to review pages: the one access helper for queues."""
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from annotate.requests import AppRequest
from curation.models import ReviewQueue
from curation.services.review import review_queue_workable


def queue_for_worker(request: AppRequest, queue_id: int) -> ReviewQueue:
    """The queue, if this user may work it: 404 when it does not exist, 403 when it is not theirs."""
    queue = get_object_or_404(ReviewQueue.objects.select_related("subset"), pk=queue_id)
    if not review_queue_workable(queue=queue, user=request.user):
        raise PermissionDenied("This queue is closed or assigned to other reviewers.")
    return queue
