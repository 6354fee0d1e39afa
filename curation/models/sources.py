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

    class LabelOrigin(models.TextChoices):
        """Who wrote the labels (answers, captions): Vision-Flan found human-written task diversity matters most."""

        UNKNOWN = "unknown", "Not said"
        HUMAN = "human", "Human-written"
        MODEL = "model", "Model-generated"
        MIXED = "mixed", "Human and model"

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
    # Where the records are in a JSON file, and what is joined or built onto them (readers/join.py).
    records_key = models.CharField(
        max_length=200, blank=True,
        help_text='JSON: the key whose list holds the records (data, annotations, questions); "*" = an object keyed '
                  "by id; empty = the file's array.",
    )
    id_column = models.CharField(max_length=100, blank=True, default="id",
                                 help_text="JSON keyed by id: the column the key is kept in.")
    join_location = models.CharField(max_length=1000, blank=True,
                                     help_text="The file joined to the records; empty with a join key = the same file.")
    join_records_key = models.CharField(max_length=200, blank=True, help_text="Where the joined file's records are.")
    join_left_key = models.CharField(max_length=200, blank=True, help_text="This source's column to join on; empty = no join.")
    join_right_key = models.CharField(max_length=200, blank=True, help_text="The joined file's column that matches it.")
    join_many = models.BooleanField(default=False, help_text="One-to-many: every match is kept, as a list.")
    join_column = models.CharField(max_length=200, blank=True,
                                   help_text="Column the match (or the list of matches) goes in; empty = merged.")
    image_pattern = models.CharField(max_length=300, blank=True,
                                     help_text="Image file name built from columns, e.g. COCO_train2014_{image_id:012d}.jpg.")
    image_pattern_column = models.CharField(max_length=100, blank=True, default="image")
    label_origin = models.CharField(max_length=16, choices=LabelOrigin.choices, default=LabelOrigin.UNKNOWN)
    task_name = models.CharField(max_length=200, blank=True, help_text="The task the source teaches (vqa, captioning, ...).")
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

    @property
    def has_join(self) -> bool:
        return bool(self.join_left_key)


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
