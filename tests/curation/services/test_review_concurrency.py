"""Many reviewers at once on real PostgreSQL: no item is decided twice, audit rows equal decisions."""
import threading
from collections import Counter

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection

from curation.models import Decision, ReviewItem
from curation.services.review import AlreadyDecided, ReviewError, review_decide
from curation.services.review_claims import review_claim_next
from tests.curation.review.builders import sample_queue_make

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
ITEMS = 120


def _reviewers(n: int) -> list[User]:
    group = Group.objects.get(name="reviewer")
    users = []
    for i in range(n):
        user = User.objects.create_user(username=f"worker{i}")
        user.groups.add(group)
        users.append(user)
    return users


def _in_threads(target, args_list):
    errors = []
    barrier = threading.Barrier(len(args_list))

    def run(*args):
        try:
            barrier.wait()
            target(*args)
        except Exception as exc:  # reported to the test below, not swallowed
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not [t for t in threads if t.is_alive()], "a reviewer thread hung"
    assert not errors, errors


def test_many_reviewers_claiming_and_deciding_at_once_decide_each_item_once(roles):
    queue, _ = sample_queue_make(count=ITEMS, images=0, overlap=0.25)
    users = _reviewers(THREADS)
    decided: dict[int, list[int]] = {u.pk: [] for u in users}

    def work(user: User) -> None:
        # Fresh instances per thread: user permission caches are not shared across threads.
        user = User.objects.get(pk=user.pk)
        while True:
            item = review_claim_next(queue=queue, user=user)
            if item is None:
                # Second reviews open as first ones are decided; look again until none are left anywhere.
                if not ReviewItem.objects.filter(queue=queue).exclude(state="decided").exists():
                    return
                if not ReviewItem.objects.filter(queue=queue, state__in=["queued", "claimed"]).exclude(excluded_reviewer=user).exists():
                    return
                continue
            verdict = {"verdict": "accept"} if item.pk % 3 else {"verdict": "reject", "reason": "other"}
            review_decide(item_id=item.pk, user=user, data=verdict)
            decided[user.pk].append(item.pk)

    _in_threads(work, [(u,) for u in users])

    all_decided = [pk for pks in decided.values() for pk in pks]
    counts = Counter(all_decided)
    assert not [pk for pk, n in counts.items() if n > 1], "an item was decided by two reviewers"
    items = ReviewItem.objects.filter(queue=queue)
    # Some second reviews may stay open when the only reviewer left for them decided round 1.
    decided_items = items.filter(state="decided")
    assert decided_items.count() == len(all_decided)
    assert items.filter(round=1, state="decided").count() == ITEMS
    assert Decision.objects.filter(item__queue=queue).count() == len(all_decided)
    assert Counter(Decision.objects.filter(item__queue=queue).values_list("item_id", flat=True)) == Counter(all_decided)
    for second in items.filter(round=2, state="decided"):
        first = items.get(round=1, target_id=second.target_id)
        assert first.decided_by_id != second.decided_by_id, "round 2 went to the round-1 reviewer"
    assert len([u for u, pks in decided.items() if pks]) > 1, "the work was not shared"


def test_a_double_submit_of_one_decision_is_recorded_once(roles):
    queue, _ = sample_queue_make(count=1, images=0)
    user = _reviewers(1)[0]
    item = review_claim_next(queue=queue, user=user)
    outcomes = []

    def submit() -> None:
        try:
            review_decide(item_id=item.pk, user=User.objects.get(pk=user.pk), data={"verdict": "accept"})
            outcomes.append("saved")
        except AlreadyDecided:
            outcomes.append("already")
        except ReviewError as exc:
            outcomes.append(type(exc).__name__)

    _in_threads(submit, [() for _ in range(4)])
    assert sorted(outcomes) == ["already", "already", "already", "saved"]
    assert Decision.objects.filter(item=item).count() == 1
