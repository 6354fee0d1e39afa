"""The FineCurate domain: sources, samples, images, subsets, mappings, jobs, reviews, decisions, exports."""
