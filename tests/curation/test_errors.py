"""One error base: every domain error is an ApplicationError with a stable code and an HTTP status, and the
ones callers catch as ValueError / LookupError / RuntimeError / ValidationError still are."""
import pytest
from django.core.exceptions import ValidationError

from annotate.mapping_forms import SpecInputError
from curation.api.ranges import RangeNotSatisfiable
from curation.engines.chat import LLMError
from curation.engines.text_embedding import TextEmbeddingUnavailable
from curation.errors import ApplicationError
from curation.exporters.records import ExportDataError
from curation.exporters.registry import ExportConfigError
from curation.ingest.readers.base import SourceUnreadable
from curation.ingest.records import RowRejected
from curation.mapping.apply import RowMappingError
from curation.mapping.conversation import ConversationError
from curation.mapping.spec import SpecError
from curation.mapping.suggesters.base import SuggestionFailed, UnknownSuggester
from curation.mapping.template import MissingValue, TemplateError
from curation.review.kinds import UnknownKind
from curation.services.exports import ExportFailed
from curation.services.images import ImageRejected
from curation.services.job_kinds import UnknownJobKind
from curation.services.jobs import JobCancelled, JobFailed
from curation.services.mapping import MappingStateError
from curation.services.mapping_build import MappingApplyFailed
from curation.services.paths import PathNotAllowed
from curation.services.review import (
    AlreadyDecided,
    InvalidQueueSettings,
    ItemGone,
    ItemNotYours,
    QueueClosed,
    ReviewError,
)
from curation.services.review_bulk import CountChanged, InvalidBulkDecision
from curation.services.samples import SubsetFrozen
from curation.services.sources import SourceInvalid
from curation.services.subsets import SubsetNotApprovable

SIMPLE = [
    SpecInputError, RangeNotSatisfiable, LLMError, TextEmbeddingUnavailable, ExportDataError, SourceUnreadable,
    RowRejected, RowMappingError, ConversationError, SuggestionFailed, UnknownSuggester, TemplateError, UnknownKind,
    ExportFailed, ImageRejected, UnknownJobKind, JobCancelled, JobFailed, MappingStateError, MappingApplyFailed,
    PathNotAllowed, ReviewError, AlreadyDecided, InvalidQueueSettings, ItemGone, ItemNotYours, QueueClosed,
    InvalidBulkDecision, SubsetFrozen,
]


@pytest.mark.parametrize("error", SIMPLE, ids=lambda e: e.__name__)
def test_every_domain_error_is_an_application_error_with_its_own_code(error):
    exc = error("what went wrong")
    assert isinstance(exc, ApplicationError)
    assert exc.code != ApplicationError.code and 400 <= exc.status < 600
    assert exc.message == str(exc) == "what went wrong"


@pytest.mark.parametrize(
    ("error", "old_base"),
    [(PathNotAllowed, ValueError), (ImageRejected, ValueError), (SpecError, ValueError), (RowRejected, ValueError),
     (UnknownKind, LookupError), (MissingValue, LookupError), (SuggestionFailed, RuntimeError),
     (ExportConfigError, ValueError), (UnknownSuggester, ValueError), (SourceInvalid, ValidationError)],
    ids=lambda e: e.__name__,
)
def test_errors_keep_the_base_their_callers_catch(error, old_base):
    assert issubclass(error, (ApplicationError,)) and issubclass(error, old_base)


def test_errors_with_their_own_arguments_carry_their_detail():
    spec = SpecError(["turns: no template", "images: not a column"])
    assert spec.code == "invalid_spec" and spec.extra == {"errors": ["turns: no template", "images: not a column"]}
    config = ExportConfigError("unknown format 'tar'", field="format")
    assert config.extra == {"field": "format"} and config.field == "format"
    missing = MissingValue("question", "the value is empty")
    assert missing.message == "{question}: the value is empty" and missing.code == "missing_value"
    changed = CountChanged(12, 10)
    assert changed.code == "count_changed" and "12" in changed.message
    approvable = SubsetNotApprovable("still open", code="checks_open")
    assert approvable.code == "checks_open" and approvable.status == 409


def test_an_invalid_source_is_shown_by_field_and_keeps_its_code():
    exc = SourceInvalid("name", "A source needs a name.")
    assert exc.code == "invalid_source" and exc.status == 400
    assert exc.message_dict == {"name": ["A source needs a name."]} and exc.extra == {"field": "name"}
