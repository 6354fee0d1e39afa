"""Model engines: a real loader for each production model and an honest built-in default, behind one
protocol (curation/engines/base.py). The domain and the workers both call engines; engines import
neither the workers nor the pages."""
