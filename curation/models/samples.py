"""Subsets of samples in the one chat schema, and the benchmarks they are decontaminated against."""
from django.conf import settings
from django.db import models

from curation.models.sources import Image, Source


class Subset(models.Model):
    """A named group of samples of one category, approved as a unit for export."""

    class Category(models.TextChoices):
        CAPTIONING = "captioning", "Captioning & knowledge"
        CHART_TABLE = "chart_table", "Chart & table"
        GENERAL_VQA = "general_vqa", "General VQA"
        GROUNDING_COUNTING = "grounding_counting", "Grounding & counting"
        MATH = "math", "Mathematics"
        OCR = "ocr", "Naive OCR"
        OCR_QA = "ocr_qa", "OCR QA"
        SCIENCE = "science", "Science"
        TEXT_ONLY = "text_only", "Text-only"
        GUI = "gui", "Screen & GUI"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=32, choices=Category.choices, default=Category.GENERAL_VQA)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    team = models.ForeignKey(
        "auth.Group", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The team whose approval policy applies; empty = the default policy.",
    )
    sample_count = models.PositiveBigIntegerField(default=0, help_text="Kept by the services that add or remove samples.")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("approve_subset", "Can approve subsets")]
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(approved_at__isnull=False),
                name="subset_approved_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Sample(models.Model):
    """One training example: ordered images and turns [{user, assistant}], with its provenance."""

    class Status(models.TextChoices):
        PENDING = "pending", "Not reviewed"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    subset = models.ForeignKey(Subset, on_delete=models.CASCADE, related_name="samples")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="samples")
    row_number = models.PositiveBigIntegerField()
    mapping = models.ForeignKey("curation.Mapping", null=True, blank=True, on_delete=models.SET_NULL, related_name="samples")
    turns = models.JSONField(help_text='[{"user": ..., "assistant": ...}, ...]')
    original_turns = models.JSONField(null=True, blank=True, help_text="The turns as mapped, kept once a reviewer edits them.")
    image_count = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reject_reason = models.CharField(max_length=32, blank=True)
    images = models.ManyToManyField(Image, through="SampleImage", related_name="samples")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subset", "source", "row_number"], name="sample_unique_provenance"),
        ]
        indexes = [models.Index(fields=["subset", "status", "id"], name="sample_subset_status")]

    def __str__(self) -> str:
        return f"sample {self.pk} ({self.subset_id}, {self.source_id}#{self.row_number})"


class SampleImage(models.Model):
    """The position of an image in a sample."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="sample_images")
    image = models.ForeignKey(Image, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["sample", "position"]
        constraints = [models.UniqueConstraint(fields=["sample", "position"], name="sampleimage_unique_position")]

    def __str__(self) -> str:
        return f"{self.sample_id}[{self.position}] = {self.image_id}"


class Benchmark(models.Model):
    """A registered evaluation test set that training data must not leak into."""

    name = models.CharField(max_length=200, unique=True)
    split = models.CharField(max_length=50, default="test")
    origin = models.CharField(max_length=500, blank=True)
    license = models.CharField("licence", max_length=200, blank=True)
    citation = models.TextField(blank=True)
    description = models.TextField(blank=True)
    image_count = models.PositiveBigIntegerField(default=0)
    # Where the images came from (an image folder, an ingested source, precomputed embeddings .npy + names).
    registered_from = models.CharField(max_length=16, blank=True)
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    vector_engine = models.CharField(max_length=200, blank=True, help_text="Engine of precomputed vectors, if any.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.split})"


class BenchmarkImage(models.Model):
    """A test image of a benchmark: a stored image, or (precomputed) only its name and vector."""

    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="benchmark_images")
    image = models.ForeignKey(Image, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    row_number = models.PositiveBigIntegerField(default=0)
    name = models.CharField(max_length=500, blank=True)
    vector = models.BinaryField(null=True, blank=True, help_text="Precomputed embedding, float16 (benchmark.vector_engine).")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["benchmark", "image"], name="benchmarkimage_unique"),
            models.CheckConstraint(
                condition=models.Q(image__isnull=False) | models.Q(vector__isnull=False), name="benchmarkimage_image_or_vector"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.benchmark_id}: {self.image_id}"
