"""The admin for annotators and queues: create, deactivate, roles, assignments, throughput."""
import pytest
from django.contrib.auth.models import Group, User

from curation.models import ReviewQueue
from curation.services.review import review_decide
from curation.services.review_claims import review_claim_next
from tests.curation.review.builders import sample_queue_make

pytestmark = pytest.mark.django_db


def _action(client, action, users, **extra):
    data = {"action": action, "_selected_action": [u.pk for u in users], "index": 0, **extra}
    return client.post("/admin/auth/user/", data)


def test_admins_create_annotators_and_put_them_in_roles_and_queues(admin_client_, reviewer):
    queue, samples = sample_queue_make(count=1)
    created = admin_client_.post(
        "/admin/auth/user/add/", {"username": "newbie", "password1": "a-Long-passphrase-1", "password2": "a-Long-passphrase-1", "usable_password": "true"}
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    newbie = User.objects.get(username="newbie")
    _action(admin_client_, "add_role", [newbie], role=Group.objects.get(name="reviewer").pk)
    assert newbie.groups.filter(name="reviewer").exists()
    _action(admin_client_, "assign_queue", [newbie], queue=queue.pk)
    assert list(queue.assignees.all()) == [newbie]
    _action(admin_client_, "unassign_queue", [newbie], queue=queue.pk)
    assert not queue.assignees.exists()
    from curation.models import Decision

    audit = Decision.objects.filter(verdict="configure_queue", target_id=str(queue.pk)).order_by("pk")
    assert [d.after["assignees"] for d in audit] == [["newbie"], []]  # each change of assignees is an audit row
    _action(admin_client_, "assign_subset", [newbie, reviewer], subset=samples[0].subset_id)
    assert set(queue.assignees.all()) == {newbie, reviewer}
    _action(admin_client_, "deactivate", [newbie])
    newbie.refresh_from_db()
    assert not newbie.is_active


def test_the_user_list_shows_each_annotators_throughput(admin_client_, reviewer):
    queue, _ = sample_queue_make(count=2)
    for _ in range(2):
        item = review_claim_next(queue=queue, user=reviewer)
        review_decide(item_id=item.pk, user=reviewer, data={"verdict": "accept"})
    html = admin_client_.get("/admin/auth/user/").content.decode()
    assert 'class="field-decided_recent">2<' in html and 'class="field-per_hour_recent">2.0<' in html


def test_the_user_form_assigns_review_queues(admin_client_, reviewer):
    queue, _ = sample_queue_make(count=1)
    page = admin_client_.get(f"/admin/auth/user/{reviewer.pk}/change/")
    assert 'name="review_queues"' in page.content.decode()


def test_the_queue_admin_lists_progress_and_closes_queues(admin_client_):
    queue, _ = sample_queue_make(count=3)
    html = admin_client_.get("/admin/curation/reviewqueue/").content.decode()
    assert 'class="field-items_total">3<' in html
    admin_client_.post("/admin/curation/reviewqueue/", {"action": "close_queues", "_selected_action": [queue.pk], "index": 0})
    assert not ReviewQueue.objects.get(pk=queue.pk).active


def test_a_queue_added_in_the_admin_is_created_through_the_service_with_its_audit_row(admin_client_, reviewer):
    from curation.models import Decision
    from tests.curation.review.builders import samples_make

    subset = samples_make(count=1)[0].subset
    response = admin_client_.post("/admin/curation/reviewqueue/add/", {
        "kind": "sample", "subset": subset.pk, "name": "spot check", "instructions": "look closely",
        "overlap_rate": "0.2", "active": "on", "assignees": [reviewer.pk],
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    queue = ReviewQueue.objects.get(subset=subset, kind="sample")
    assert (queue.name, queue.overlap_rate, list(queue.assignees.all())) == ("spot check", 0.2, [reviewer])
    assert queue.created_by is not None and queue.created_by.is_staff  # the admin who added it
    verdicts = list(Decision.objects.filter(target_id=str(queue.pk)).order_by("pk").values_list("verdict", flat=True))
    assert verdicts == ["create_queue", "configure_queue"]  # created, then its assignees set

    changed = admin_client_.post(f"/admin/curation/reviewqueue/{queue.pk}/change/", {
        "name": "spot check", "instructions": "look closely", "overlap_rate": "0.2", "assignees": [reviewer.pk],
    })  # active unticked: the queue closes
    assert changed.status_code == 302, changed.content.decode()[:3000]
    queue.refresh_from_db()
    assert not queue.active
    last = Decision.objects.filter(target_id=str(queue.pk)).latest("pk")
    assert last.verdict == "configure_queue" and last.before["active"] and not last.after["active"]
