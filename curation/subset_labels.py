"""Selectors: who wrote a subset's labels and which tasks it teaches, read from the sources mapped into it.

Vision-Flan found human-labelled task diversity matters more than volumes of synthetic data, so subsets,
their list and their exports say both.
"""
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet

from curation.models import Mapping, Sample, Source, Subset


@dataclass
class SubsetLabels:
    label_origins: list[str] = field(default_factory=list)  # Source.LabelOrigin values, sorted
    tasks: list[str] = field(default_factory=list)

    @property
    def label_text(self) -> str:
        names = dict(Source.LabelOrigin.choices)
        return ", ".join(str(names.get(v, v)) for v in self.label_origins)


def subset_labels_for(*, subset_ids: list[int]) -> dict[int, SubsetLabels]:
    """Label origins and task names of the sources whose mappings made each subset (one query)."""
    found: dict[int, SubsetLabels] = defaultdict(SubsetLabels)
    rows = (Mapping.objects.filter(subset_id__in=subset_ids).values_list("subset_id", "source__label_origin",
                                                                         "source__task_name").distinct())
    for subset_id, origin, task in rows:
        entry = found[subset_id]
        if origin not in entry.label_origins:
            entry.label_origins.append(origin)
        if task and task not in entry.tasks:
            entry.tasks.append(task)
    for entry in found.values():
        entry.label_origins.sort()
        entry.tasks.sort()
    return dict(found)


def subsets_filter_labels(subsets: QuerySet[Subset], *, label_origin: str = "", task: str = "") -> QuerySet[Subset]:
    """Subsets with a source of that label origin (and of that task), when given."""
    if label_origin:
        subsets = subsets.filter(Exists(Mapping.objects.filter(subset=OuterRef("pk"), source__label_origin=label_origin)))
    if task:
        subsets = subsets.filter(Exists(Mapping.objects.filter(subset=OuterRef("pk"), source__task_name=task)))
    return subsets


def subset_task_names() -> list[str]:
    """Every task name a mapped source declares, for the list's filter."""
    return sorted(set(Mapping.objects.exclude(subset=None).exclude(source__task_name="")
                      .values_list("source__task_name", flat=True)))


def samples_labels_by_subset(samples: QuerySet[Sample]) -> dict[int, SubsetLabels]:
    """What an export's samples say per subset: the label origins and tasks of their own sources."""
    found: dict[int, SubsetLabels] = defaultdict(SubsetLabels)
    rows = samples.order_by().values_list("subset_id", "source__label_origin", "source__task_name").distinct()
    for subset_id, origin, task in rows:
        entry = found[subset_id]
        if origin not in entry.label_origins:
            entry.label_origins.append(origin)
        if task and task not in entry.tasks:
            entry.tasks.append(task)
    for entry in found.values():
        entry.label_origins.sort()
        entry.tasks.sort()
    return dict(found)
