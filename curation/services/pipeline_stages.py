"""Every stage of a subset's pipeline, in order: the built-in ones (services/pipeline.py) with the capabilities'
(services/pipeline_capabilities.py) between "mapped" and the spot-check. Pages read the pipeline from here."""
from curation.services import pipeline_capabilities as capabilities
from curation.services.pipeline import Stage, pipeline_stage_register, subset_pipeline

for _stage in (
    Stage("near_duplicates", "Near-duplicates", capabilities.near_duplicates_stage),
    Stage("leaks", "Benchmark leaks", capabilities.leaks_stage),
    Stage("ratings", "Quality ratings", capabilities.ratings_stage),
    Stage("hard_negatives", "Hard negatives", capabilities.hard_negatives_stage),
    Stage("actions", "GUI actions", capabilities.actions_stage),
):
    pipeline_stage_register(_stage, before="spot_check")

__all__ = ["subset_pipeline"]
