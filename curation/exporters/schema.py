"""The FineVision row layout as an Arrow schema, as Hugging Face `datasets` features, and as card YAML.

images: list of Image structs {bytes, path}; texts: list of {user, assistant}; source: str; then the
columns of every provider (the ratings first). The `huggingface` schema metadata makes
`datasets.load_dataset("parquet", ...)` decode the images as PIL.
"""
import json
from typing import Any

import pyarrow as pa

from curation.exporters.registry import ColumnProvider, ColumnType

IMAGE_STRUCT = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
TURN_STRUCT = pa.struct([("user", pa.string()), ("assistant", pa.string())])

_ARROW: dict[str, pa.DataType] = {
    "int64": pa.int64(),
    "float64": pa.float64(),
    "string": pa.string(),
    "bool": pa.bool_(),
}


def _value(dtype: str) -> dict[str, str]:
    return {"dtype": dtype, "_type": "Value"}


def column_arrow_type(column_type: ColumnType) -> pa.DataType:
    if column_type.startswith("list<"):
        return pa.list_(_ARROW[column_type[5:-1]])
    return _ARROW[column_type]


def column_feature(column_type: ColumnType) -> Any:
    # A one-element list is how `datasets` serialises a list feature in every version (2.x to 5.x).
    if column_type.startswith("list<"):
        return [_value(column_type[5:-1])]
    return _value(column_type)


def column_yaml(name: str, column_type: ColumnType) -> dict[str, Any]:
    if column_type.startswith("list<"):
        return {"name": name, "list": column_type[5:-1]}
    return {"name": name, "dtype": column_type}


def arrow_schema(providers: list[ColumnProvider]) -> pa.Schema:
    fields = [
        pa.field("images", pa.list_(IMAGE_STRUCT)),
        pa.field("texts", pa.list_(TURN_STRUCT)),
        pa.field("source", pa.string()),
    ]
    for provider in providers:
        fields.extend(pa.field(c.name, column_arrow_type(c.type)) for c in provider.columns)
    metadata = {"huggingface": json.dumps({"info": {"features": hf_features(providers)}}, sort_keys=False)}
    return pa.schema(fields, metadata=metadata)


def hf_features(providers: list[ColumnProvider]) -> dict[str, Any]:
    features: dict[str, Any] = {
        "images": [{"_type": "Image"}],
        "texts": [{"user": _value("string"), "assistant": _value("string")}],
        "source": _value("string"),
    }
    for provider in providers:
        for column in provider.columns:
            features[column.name] = column_feature(column.type)
    return features


def yaml_features(providers: list[ColumnProvider]) -> list[dict[str, Any]]:
    """The features as a dataset card's `dataset_info.features` list."""
    features: list[dict[str, Any]] = [
        {"name": "images", "list": "image"},
        {"name": "texts", "list": [{"name": "user", "dtype": "string"}, {"name": "assistant", "dtype": "string"}]},
        {"name": "source", "dtype": "string"},
    ]
    for provider in providers:
        features.extend(column_yaml(c.name, c.type) for c in provider.columns)
    return features
