"""OpenAPI post-processing: every operation documents the error responses it really gives, in the error shape.

401 and 429 come from authentication (a missing or wrong token; too many wrong tokens), 403 from the role
checks, 404 wherever a path names an object, 400 wherever a query or body is parsed; the operations that can
also conflict (409) or refuse a decision (422) say so in their own annotations. Downloads keep the media types
they declare.
"""
from typing import Any

ERROR_SCHEMA_NAME = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "detail"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "detail": {"nullable": True},
            },
        }
    },
}
DESCRIPTIONS = {
    "400": "The query or body is not valid (error.detail names the fields).",
    "401": "No token or session, or a wrong token.",
    "403": "The user's role does not allow this.",
    "404": "No such object.",
    "429": "Too many failed token attempts from this address; retry after Retry-After seconds.",
}
# Review decisions, claims and releases: the review services' errors (curation/services/review.py).
REVIEW_ERRORS = {"409": "The item changed under you (claimed by someone else, already decided).",
                 "422": "The decision is not valid for this item's kind."}


# What an export file is sent as (mimetypes.guess_type of its name; application/octet-stream when unknown, as for
# .parquet and .jsonl): the formats write Parquet, JSON Lines, JSON manifests, WebDataset tar shards and images.
DOWNLOAD_MEDIA_TYPES = ["application/octet-stream", "application/json", "application/x-tar", "image/jpeg",
                        "image/png", "image/webp", "image/gif", "text/plain", "text/csv"]


def _download_content() -> dict[str, Any]:
    return {media: {"schema": {"type": "string", "format": "binary"}} for media in DOWNLOAD_MEDIA_TYPES}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}}}}


def error_responses_hook(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete", "head"}:
                continue
            responses = operation.setdefault("responses", {})
            wanted = ["401", "403", "429"]
            if "{" in path:
                wanted.append("404")
            parameters = operation.get("parameters", [])
            for parameter in parameters:
                # django-filter reads an empty choice (?status=) as "no filter": the schema says so.
                enum = parameter.get("schema", {}).get("enum")
                if parameter.get("in") == "query" and enum is not None and "" not in enum:
                    enum.append("")
            if "requestBody" in operation or any(p.get("in") == "query" for p in parameters):
                wanted.append("400")
            for code in wanted:
                responses.setdefault(code, _error_response(DESCRIPTIONS[code]))
            if path.startswith("/api/review/") and method == "post":
                for code, description in REVIEW_ERRORS.items():
                    responses.setdefault(code, _error_response(description))
            if path.endswith("/files/{name}") and method == "get":
                for code in ("200", "206"):
                    if code in responses:
                        responses[code]["content"] = _download_content()
            for code, response in responses.items():
                if code.startswith(("4", "5")) and "content" not in response:
                    response["content"] = _error_response(response.get("description", ""))["content"]
    return result
