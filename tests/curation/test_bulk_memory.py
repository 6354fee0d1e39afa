"""The collector during a bulk step: what was alive is frozen for the step (nested steps too), and let go after."""
import gc

from curation.bulk_memory import collector_frozen


def test_what_is_alive_is_frozen_for_the_outermost_step_and_let_go_after():
    assert gc.get_freeze_count() == 0
    with collector_frozen():
        assert gc.get_freeze_count() > 0  # (the count falls as frozen objects die: only > 0 is certain)
        with collector_frozen():
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0  # the inner step ending does not unfreeze the outer one's objects
    assert gc.get_freeze_count() == 0


def test_the_step_unfreezes_when_it_fails():
    try:
        with collector_frozen():
            raise RuntimeError("the step failed")
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == 0
