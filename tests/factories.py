"""Test builders for the data model: real rows, real stored images. Other areas may append builders."""
import io
import itertools
from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from PIL import Image as PILImage

from curation.models import Export, Image, Mapping, Sample, SampleImage, Source, Subset
from curation.services.exports import export_create
from curation.services.images import image_store
from workers.tasks.exports import export_build

_counter = itertools.count(1)


def image_bytes(*, color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (8, 6), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def image_make(*, color: tuple[int, int, int] | None = None, size: tuple[int, int] = (8, 6), fmt: str = "PNG") -> Image:
    """A real image stored under MEDIA_ROOT (a distinct colour per call unless one is given)."""
    if color is None:
        n = next(_counter)
        color = (n * 37 % 256, n * 91 % 256, n * 53 % 256)
    return image_store(data=image_bytes(color=color, size=size, fmt=fmt))


def source_make(*, name: str | None = None, license: str = "CC BY 4.0", citation: str = "", **extra: Any) -> Source:
    n = next(_counter)
    return Source.objects.create(
        name=name or f"source-{n}",
        license=license,
        citation=citation or f"@misc{{source{n}}}",
        origin=extra.pop("origin", f"https://example.org/source-{n}"),
        location=extra.pop("location", f"/data/source-{n}.jsonl"),
        status=extra.pop("status", Source.Status.READY),
        **extra,
    )


def mapping_make(
    *,
    source: Source,
    subset: Subset | None = None,
    status: str = Mapping.Status.ACCEPTED,
    version: int | None = None,
    engine: str = "rules-v1",
    applied: bool = True,
) -> Mapping:
    if version is None:
        version = (Mapping.objects.filter(source=source).order_by("-version").values_list("version", flat=True).first() or 0) + 1
    # An accepted mapping in a factory counts as applied: its samples are the ones the test builds.
    applied_at = timezone.now() if status == Mapping.Status.ACCEPTED and applied else None
    return Mapping.objects.create(source=source, subset=subset, version=version, spec={}, status=status, engine=engine,
                                  applied_at=applied_at)


def subset_make(*, name: str | None = None, category: str = Subset.Category.GENERAL_VQA, **extra: Any) -> Subset:
    return Subset.objects.create(name=name or f"subset-{next(_counter)}", category=category, **extra)


def sample_make(
    *,
    subset: Subset,
    source: Source,
    turns: list[dict[str, str]] | None = None,
    images: Sequence[Image] = (),
    row_number: int | None = None,
    mapping: Mapping | None = None,
    **extra: Any,
) -> Sample:
    """A sample with its images in order; keeps subset.sample_count like the apply service does."""
    sample = Sample.objects.create(
        subset=subset,
        source=source,
        row_number=next(_counter) if row_number is None else row_number,
        mapping=mapping,
        turns=turns if turns is not None else [{"user": "What is shown?", "assistant": "A red square."}],
        image_count=len(images),
        **extra,
    )
    SampleImage.objects.bulk_create([SampleImage(sample=sample, image=image, position=i) for i, image in enumerate(images)])
    Subset.objects.filter(pk=subset.pk).update(sample_count=Sample.objects.filter(subset=subset).count())
    return sample


def approved_subset_make(
    *, samples: int = 3, name: str | None = None, source: Source | None = None, by: Any = None,
    sample_status: str = Sample.Status.ACCEPTED, **extra: Any,
) -> Subset:
    """An approved subset of `samples` one-image samples (accepted: what an export keeps by default) from one
    source with an accepted mapping."""
    subset = subset_make(name=name, **extra)
    source = source or source_make()
    mapping = Mapping.objects.filter(source=source, status=Mapping.Status.ACCEPTED).first() or mapping_make(source=source, subset=subset)
    for i in range(samples):
        sample_make(subset=subset, source=source, mapping=mapping, images=[image_make()], row_number=i,
                    turns=[{"user": f"Question {i}?", "assistant": f"Answer {i}."}], status=sample_status)
    Subset.objects.filter(pk=subset.pk).update(status=Subset.Status.APPROVED, approved_at=timezone.now(), approved_by=by)
    subset.refresh_from_db()
    return subset


def export_build_now(*, subsets: Sequence[Subset], format: str, by: Any = None, **options: Any) -> Export:
    """Create an export and run its task in this process (the same code path the worker runs)."""
    export = export_create(subsets=subsets, format=format, by=by, enqueue=False, **options)
    export_build(export.job_id)
    export.refresh_from_db()
    return export
