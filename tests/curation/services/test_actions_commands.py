"""actions_suggest / actions_apply call the same services as the pages."""
import io

import pytest
from django.core.management import CommandError, call_command

from curation.models import ActionMapping, SampleAction
from tests.curation.services.test_actions import gui_source_make

pytestmark = pytest.mark.django_db


def test_suggest_accept_and_apply_from_the_command_line(curator):
    source, subset, _ = gui_source_make(name="cli-gui")
    out = io.StringIO()
    call_command("actions_suggest", "cli-gui", "--engine", "rules", stdout=out)
    assert "cannot be mapped" in out.getvalue() and "CLICK <point>  ->  click" in out.getvalue()
    with pytest.raises(CommandError, match="no such action mapping"):
        call_command("actions_apply", "cli-gui", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--by must name"):
        call_command("actions_apply", "cli-gui", "--accept", stdout=io.StringIO())
    call_command("actions_apply", "cli-gui", "--accept", "--by", curator.username, stdout=io.StringIO())
    assert ActionMapping.objects.get(source=source).status == "accepted"
    out = io.StringIO()
    call_command("actions_apply", "cli-gui", stdout=out)
    assert "failed validation" in out.getvalue()
    assert SampleAction.objects.filter(sample__subset=subset).exists()
