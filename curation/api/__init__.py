"""The REST API: one view per operation, input/output serializers beside it, one error shape."""
