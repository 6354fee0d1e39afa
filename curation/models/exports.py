"""Exports of approved subsets to training formats, with their manifest and checksummed files."""
from django.conf import settings
from django.db import models

from curation.models.jobs import Job
from curation.models.samples import Subset


class Export(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    name = models.CharField(max_length=200, blank=True)
    # A name of the export format registry (curation/exporters/registry.py), which holds its label and writer.
    format = models.CharField(max_length=16)
    subsets = models.ManyToManyField(Subset, related_name="exports")
    filters = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(default=list, blank=True, help_text="Names of the extra column providers (curation.exporters).")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    manifest = models.JSONField(null=True, blank=True)
    sample_count = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("export_data", "Can create and download exports")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.format}, {self.state})"


class ExportFile(models.Model):
    class Kind(models.TextChoices):
        DATA = "data", "Data"
        IMAGE = "image", "Image"
        METADATA = "metadata", "Manifest or card"

    export = models.ForeignKey(Export, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=300, help_text="Path inside the export, e.g. data/train-00000-of-00002.parquet.")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.DATA)
    storage_name = models.CharField(max_length=500, help_text="Path under MEDIA_ROOT.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["export", "name"]
        constraints = [models.UniqueConstraint(fields=["export", "name"], name="exportfile_unique_name")]

    def __str__(self) -> str:
        return self.name
