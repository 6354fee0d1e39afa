"""Models of the curation domain, one module per concern; import them from here."""
from curation.models.api_tokens import ApiToken
from curation.models.exports import Export, ExportFile
from curation.models.jobs import Job, JobError
from curation.models.mapping import Mapping, MappingStagedRow
from curation.models.review import Decision, ReviewItem, ReviewQueue
from curation.models.samples import Benchmark, BenchmarkImage, Sample, SampleImage, Subset
from curation.models.sources import Image, Source, SourceRow

__all__ = [
    "ApiToken",
    "Benchmark",
    "BenchmarkImage",
    "Decision",
    "Export",
    "ExportFile",
    "Image",
    "Job",
    "JobError",
    "Mapping",
    "MappingStagedRow",
    "ReviewItem",
    "ReviewQueue",
    "Sample",
    "SampleImage",
    "Source",
    "SourceRow",
    "Subset",
]
