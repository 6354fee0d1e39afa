"""Models of the curation domain, one module per concern; import them from here."""
from curation.models.actions import (
    ActionDefinition,
    ActionMapping,
    ActionParameter,
    ActionSchema,
    SampleAction,
    SampleActionTurn,
)
from curation.models.api_tokens import ApiToken
from curation.models.approval import ApprovalPolicy
from curation.models.duplicates import DuplicatePair, DuplicateScan, ImageEmbedding
from curation.models.exports import Export, ExportFile
from curation.models.hardneg import HardNegative, HardNegativeStep
from curation.models.jobs import Job, JobAttempt, JobError
from curation.models.mapping import Mapping, MappingStagedRow
from curation.models.ratings import RatedTurn, Rating, SampleRating
from curation.models.review import Decision, ReviewItem, ReviewQueue
from curation.models.samples import Benchmark, BenchmarkImage, Sample, SampleImage, Subset
from curation.models.sources import Image, Source, SourceRow

__all__ = [
    "ApprovalPolicy",
    "ActionDefinition",
    "ActionMapping",
    "ActionParameter",
    "ActionSchema",
    "SampleAction",
    "SampleActionTurn",
    "ApiToken",
    "Benchmark",
    "BenchmarkImage",
    "Decision",
    "DuplicatePair",
    "DuplicateScan",
    "Export",
    "ExportFile",
    "HardNegative",
    "HardNegativeStep",
    "Image",
    "ImageEmbedding",
    "Job",
    "JobAttempt",
    "JobError",
    "Mapping",
    "MappingStagedRow",
    "RatedTurn",
    "Rating",
    "ReviewItem",
    "ReviewQueue",
    "Sample",
    "SampleImage",
    "SampleRating",
    "Source",
    "SourceRow",
    "Subset",
]
