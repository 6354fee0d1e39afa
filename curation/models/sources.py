"""Sources as registered by curators, the raw rows ingested from them, and content-addressed images."""
from django.conf import settings
from django.db import models


class Source(models.Model):
    """One upstream dataset: where it lives, how it is licensed, and what ingest found in it."""

    class Format(models.TextChoices):
        AUTO = "auto", "Detect from the file"
        JSONL = "jsonl", "JSON Lines"
        JSON = "json", "JSON array"
        PARQUET = "parquet", "Parquet"
        CSV = "csv", "CSV"
        TSV = "tsv", "TSV"
        IMAGEFOLDER = "imagefolder", "Image folder"

    class Layout(models.TextChoices):
        UNKNOWN = "", "Not yet known"
        LLAVA = "llava", "LLaVA conversations"
        CAULDRON = "cauldron", "Cauldron / FineVision"
        SHAREGPT = "sharegpt", "ShareGPT / OpenAI messages"
        TABLE = "table", "Table of columns"
        IMAGEFOLDER = "imagefolder", "Image folder"

    class Status(models.TextChoices):
        REGISTERED = "registered", "Registered"
        INGESTING = "ingesting", "Ingesting"
        READY = "ready", "Ingested"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    origin = models.CharField(max_length=500, blank=True, help_text="Where the data comes from: a URL or a citation key.")
    license = models.CharField("licence", max_length=200, blank=True)
    license_unknown = models.BooleanField(
        default=False, help_text="Nobody knows the licence, and the curator says so on purpose (approval accepts it)."
    )
    citation = models.TextField(blank=True)
    location = models.CharField(max_length=1000, help_text="Absolute path of the file or folder under an allowed data root.")
    image_root = models.CharField(
        max_length=1000,
        blank=True,
        help_text="Folder that relative image paths in the rows are resolved against; empty = the data file's folder.",
    )
    format = models.CharField(max_length=16, choices=Format.choices, default=Format.AUTO)
    detected_format = models.CharField(max_length=16, choices=Format.choices, blank=True)
    layout = models.CharField(max_length=16, choices=Layout.choices, blank=True, default=Layout.UNKNOWN)
    columns = models.JSONField(default=dict, blank=True, help_text="Column name -> observed type, from ingest.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REGISTERED)
    row_count = models.PositiveBigIntegerField(default=0)
    rejected_count = models.PositiveBigIntegerField(default=0)
    image_count = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ingested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("ingest_source", "Can register and ingest sources")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Image(models.Model):
    """An image stored once by the sha256 of its bytes; every row and sample refers to it by that key."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=16)
    bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(width__gt=0, height__gt=0), name="image_positive_size"),
        ]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} {self.width}x{self.height} {self.format}"

    @property
    def storage_name(self) -> str:
        """Path under MEDIA_ROOT: images/ab/cd/<sha256>.<ext>."""
        return f"images/{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}.{self.format.lower()}"


class SourceRow(models.Model):
    """One raw record of a source as read, images replaced by {"$image": sha256} references."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveBigIntegerField(help_text="0-based position of the record in the source.")
    data = models.JSONField()
    image_shas = models.JSONField(default=list, blank=True, help_text="Images referenced by the row, in order.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "row_number"], name="sourcerow_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id}#{self.row_number}"
