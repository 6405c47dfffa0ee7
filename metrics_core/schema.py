"""The JSON Schema of definitions.yaml, generated from the pydantic models (layer: definitions).

The repository ships it as ``definitions.schema.json`` (a test keeps it current), so editors with
the YAML language server complete and check the file through the comment on its first line.
"""

from __future__ import annotations

from typing import Any

from .models import Definitions


def definitions_schema() -> dict[str, Any]:
    schema = Definitions.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "kpi definitions.yaml"
    # Shorthands the models accept before validation (`created_at: date`, `gross_margin: 0.75`).
    defs = schema.get("$defs", {})
    for name, short in (("ColumnDef", {"type": "string"}), ("SourceDef", {"type": "string"}),
                        ("DimensionDef", {"type": "string"}), ("FormatDef", {"type": "string"}),
                        ("ConnectionDef", {"type": "string"})):
        if name in defs:
            defs[name] = {"anyOf": [defs[name], short]}
    if "CumulativeMetric" in defs:  # told apart by type:, since: or window: (else {measure: x} would match twice)
        defs["CumulativeMetric"]["anyOf"] = [{"required": [k]} for k in ("type", "since", "window")]
    for key, sub in schema["properties"]["metrics"].get("patternProperties", {}).items():
        schema["properties"]["metrics"]["patternProperties"][key] = {"anyOf": [sub, {"type": "number"}]}
    return schema
