"""Copy detection: image embeddings (one per image per engine), scans, and the flagged pairs people audit."""
from django.conf import settings
from django.db import models

from curation.models.jobs import Job
from curation.models.samples import Benchmark, BenchmarkImage, Sample, Subset
from curation.models.sources import Image


class ImageEmbedding(models.Model):
    """An image's copy-detection vector from one engine, stored once (float16 bytes) and reused by every scan."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="embeddings")
    engine = models.CharField(max_length=64)
    engine_version = models.CharField(max_length=200)
    dim = models.PositiveSmallIntegerField()
    vector = models.BinaryField(help_text="float16, little-endian, L2-normalised")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["image", "engine"], name="imageembedding_unique_engine")]

    def __str__(self) -> str:
        return f"{self.image_id[:12]} by {self.engine}"


class DuplicateScan(models.Model):
    """One run of "find duplicates" (inside subsets) or "check leaks" (subsets against benchmarks)."""

    class Kind(models.TextChoices):
        DUPLICATE = "duplicate", "Near-duplicates"
        LEAK = "leak", "Benchmark leaks"

    class State(models.TextChoices):
        EMBEDDING = "embedding", "Embedding images"
        SEARCHING = "searching", "Searching and verifying"
        FINISHING = "finishing", "Grouping and queueing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.EMBEDDING)
    subsets = models.ManyToManyField(Subset, related_name="duplicate_scans")
    benchmarks = models.ManyToManyField(Benchmark, blank=True, related_name="duplicate_scans")
    threshold = models.FloatField(help_text="Cosine at which a pair is flagged without verification.")
    verify_threshold = models.FloatField(help_text="Cosine from which candidates go to the verifier.")
    engine = models.CharField(max_length=64)
    engine_version = models.CharField(max_length=200, blank=True)
    verifier = models.CharField(max_length=200, blank=True)
    embed_job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    search_job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    index_kind = models.CharField(max_length=64, blank=True, help_text="exact, ivf..., as chosen by size")
    vectors = models.PositiveBigIntegerField(default=0)
    candidates = models.PositiveBigIntegerField(default=0)
    flagged = models.PositiveBigIntegerField(default=0)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(threshold__gte=0, threshold__lte=1), name="duplicatescan_threshold_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} scan {self.pk} ({self.state})"


class DuplicatePair(models.Model):
    """Two images found to be copies: two samples of the corpus (duplicate) or a sample and a benchmark image
    (leak). Both scores are kept (the embedding's cosine and the verifier's), with the verifier's evidence."""

    class Kind(models.TextChoices):
        DUPLICATE = "duplicate", "Near-duplicate"
        LEAK = "leak", "Benchmark leak"

    class Status(models.TextChoices):
        OPEN = "open", "Not reviewed"
        NOT_COPY = "not_copy", "Not a copy"
        KEEP_A = "keep_a", "Copy, keep A"
        KEEP_B = "keep_b", "Copy, keep B"
        LEAK = "leak", "Leak, sample dropped"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    scan = models.ForeignKey(DuplicateScan, null=True, blank=True, on_delete=models.SET_NULL, related_name="pairs")
    a_sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="+")
    a_image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="+")
    b_sample = models.ForeignKey(Sample, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    b_image = models.ForeignKey(Image, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    benchmark = models.ForeignKey(Benchmark, null=True, blank=True, on_delete=models.CASCADE, related_name="leak_pairs")
    benchmark_image = models.ForeignKey(BenchmarkImage, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    similarity = models.FloatField(help_text="Cosine of the two embeddings.")
    verify_score = models.FloatField(null=True, blank=True, help_text="The verifier's score (null: not verified).")
    verified = models.BooleanField(default=False)
    flagged = models.BooleanField(default=False, help_text="Counted as a copy: verified, or cosine >= the scan's threshold.")
    evidence = models.JSONField(default=dict, blank=True)
    engine = models.CharField(max_length=200)
    verifier = models.CharField(max_length=200, blank=True)
    cluster = models.PositiveBigIntegerField(null=True, blank=True, help_text="Connected component of flagged pairs.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                # Not partial, so upserts can name them; the other kind's columns are null, and nulls are distinct.
                fields=["a_sample", "a_image", "b_sample", "b_image"],
                name="duplicatepair_unique_duplicate",
            ),
            models.UniqueConstraint(
                fields=["a_sample", "a_image", "benchmark_image"],
                name="duplicatepair_unique_leak",
            ),
            models.CheckConstraint(
                condition=(models.Q(kind="duplicate", b_sample__isnull=False, b_image__isnull=False))
                | models.Q(kind="leak", benchmark_image__isnull=False),
                name="duplicatepair_kind_has_other_side",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "status"], condition=models.Q(flagged=True), name="duplicatepair_flagged"),
            models.Index(fields=["b_sample"], name="duplicatepair_b_sample"),
        ]

    def __str__(self) -> str:
        other = self.b_sample_id if self.kind == self.Kind.DUPLICATE else f"benchmark image {self.benchmark_image_id}"
        return f"{self.kind} {self.a_sample_id} ~ {other} ({self.similarity:.3f})"
