"""Model engines: a real loader for each production model and an honest built-in default."""
