"""GUI actions in exports: the structured actions of each sample (one batched read per batch) and a filter that
leaves out samples whose actions failed validation. The canonical calls themselves are in the turns."""
import json
from collections import defaultdict
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet

from curation.exporters.registry import (
    Column,
    ColumnProvider,
    ExportFilter,
    Param,
    register_column,
    register_filter,
)
from curation.models import Sample, SampleAction


@register_column
class ActionColumns(ColumnProvider):
    name = "actions"
    label = "GUI actions (structured)"
    description = ("Each assistant turn's actions as the unified schema has them: name, typed params (coordinates "
                   "in [0, 1]), validation state and reason; the canonical calls are the turns' text.")
    columns = (
        Column("actions", "string", 'JSON: one list per turn of {"name", "params", "state", "reason"}; null without actions'),
        Column("action_names", "list<string>", "the action names in order"),
        Column("actions_valid", "bool", "every action validates; null without actions"),
    )

    def batch_values(self, samples: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
        per_sample: dict[int, dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        rows = (SampleAction.objects.filter(sample_id__in=[s["pk"] for s in samples]).order_by("sample_id", "turn", "position")
                .values_list("sample_id", "turn", "name", "params", "state", "reason"))
        for sample_id, turn, name, params, state, reason in rows:
            per_sample[sample_id][turn].append({"name": name, "params": params, "state": state, "reason": reason})
        out: dict[int, dict[str, Any]] = {}
        for sample in samples:
            turns = per_sample.get(sample["pk"])
            if not turns:
                out[sample["pk"]] = {"actions": None, "action_names": [], "actions_valid": None}
                continue
            count = len(sample.get("turns") or []) or (max(turns) + 1)
            by_turn = [turns.get(i, []) for i in range(max(count, max(turns) + 1))]
            flat = [a for actions in by_turn for a in actions]
            out[sample["pk"]] = {
                "actions": json.dumps(by_turn, ensure_ascii=False),
                "action_names": [a["name"] for a in flat],
                "actions_valid": all(a["state"] == SampleAction.State.VALID for a in flat),
            }
        return out

    def summary(self, samples: QuerySet[Sample]) -> dict[str, Any]:
        actions = SampleAction.objects.filter(sample__in=samples.order_by().values("pk"))
        states = dict(actions.order_by().values_list("state").annotate(n=Count("id")))
        names = dict(actions.order_by().values_list("name").annotate(n=Count("id")))
        return {"actions": sum(states.values()), "states": states, "names": names}


@register_filter
class ActionStateFilter(ExportFilter):
    name = "action_states"
    label = "GUI action validation"
    description = "Leave out samples with an action in a state not chosen (e.g. keep only samples whose actions all validate)."
    params = (Param("states", "Allowed action states", "choices", choices=lambda: list(SampleAction.State.choices)),)

    def apply(self, samples: QuerySet[Sample], params: dict[str, Any]) -> QuerySet[Sample]:
        bad = SampleAction.objects.filter(sample=OuterRef("pk")).exclude(state__in=params["states"])
        return samples.exclude(Exists(bad))

    def reasons(self, excluded: QuerySet[Sample], params: dict[str, Any]) -> dict[str, int]:
        count = excluded.count()
        return {f"an action {'/'.join(sorted(set(SampleAction.State.values) - set(params['states'])))}": count} if count else {}
