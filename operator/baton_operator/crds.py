"""The Workflow and Policy CustomResourceDefinitions, generated from the shared models.

``python -m baton_operator.crds OUTDIR`` writes them; a test regenerates and compares with the
committed ``crds/`` so the CRDs cannot drift from ``baton.manifests``. Pydantic's JSON Schema is
turned into a *structural* OpenAPI v3 schema (refs inlined, ``nullable`` instead of ``null``
unions, no ``additionalProperties: false``, which the apiserver forbids since it prunes unknown
fields anyway), then CEL rules say what the models check in code.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from baton.manifests import API_GROUP, API_VERSION, Policy, Workflow
from baton.manifests.common import DNS_LABEL
from baton.manifests.workflow import ENDPOINT_PATH
from baton_operator.status import WorkflowStatus

__all__ = ["main", "policy_crd", "render_all", "workflow_crd"]

_DROPPED = {"title", "description", "additionalProperties", "$defs", "discriminator"}
_MAX_NAMES = 32


def _structural(node: Any, defs: Mapping[str, Any]) -> Any:
    """Inline refs and translate JSON Schema 2020-12 idioms into what CRDs accept."""
    if isinstance(node, list):
        return [_structural(item, defs) for item in node]
    if not isinstance(node, Mapping):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _structural(merged, defs)
    variants = node.get("anyOf")
    if isinstance(variants, list):
        rest = [v for v in variants if v != {"type": "null"}]
        if len(rest) == 1 and len(rest) < len(variants):
            single: dict[str, Any] = _structural(
                {**{k: v for k, v in node.items() if k != "anyOf"}, **rest[0]}, defs
            )
            single["nullable"] = True
            if single.get("default") is None:
                single.pop("default", None)
            return single
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED and not (key == "additionalProperties" and isinstance(value, Mapping)):
            continue
        if key == "const":
            out["enum"] = [value]
        elif key == "exclusiveMinimum":
            out["minimum"], out["exclusiveMinimum"] = value, True
        elif key == "exclusiveMaximum":
            out["maximum"], out["exclusiveMaximum"] = value, True
        elif key == "properties":
            out[key] = {name: _structural(schema, defs) for name, schema in value.items()}
        else:
            out[key] = _structural(value, defs)
    if out.get("type") == "object" and "properties" not in out:
        additional = out.get("additionalProperties")
        if additional in (None, True, {}):
            # A free-form object (dict[str, Any]): kept as given, validated by the operator.
            out.pop("additionalProperties", None)
            out["x-kubernetes-preserve-unknown-fields"] = True
    if out.get("default") is None:
        out.pop("default", None)
    return out


def _schema_of(model: type[Any]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return dict(_structural(schema, schema.get("$defs", {})))


def _object_defaults(schema: dict[str, Any]) -> None:
    """Optional sub-objects without required fields default to ``{}``, so their own defaults
    apply on the server as they do in the models (the apiserver defaults only what exists)."""
    for prop in (schema.get("properties") or {}).values():
        if prop.get("type") == "object" and "properties" in prop:
            if not prop.get("required") and not prop.get("nullable") and "default" not in prop:
                prop["default"] = {}
            _object_defaults(prop)
        items = prop.get("items")
        if isinstance(items, dict):
            _object_defaults(items)


def _name_list(schema: dict[str, Any], field: str) -> None:
    schema["maxItems"] = _MAX_NAMES
    schema["items"] = {"type": "string", "maxLength": 63}
    schema["x-kubernetes-validations"] = [
        {
            "rule": f"self.all(n, n.matches('{DNS_LABEL}'))",
            "message": f"every {field} entry must be a Kubernetes name (lowercase letters, digits, '-')",
        }
    ]


_DOCUMENT_HEADER: dict[str, Any] = {
    "required": ["document"],
    "properties": {
        "document": {
            "type": "object",
            "required": ["dsl", "namespace", "name", "version"],
            "properties": {
                key: {"type": "string", "minLength": 1} for key in ("dsl", "namespace", "name", "version")
            },
            "x-kubernetes-preserve-unknown-fields": True,
        }
    },
}

_NAME_RULE = {
    "rule": f"self.metadata.name.size() <= 63 && self.metadata.name.matches('{DNS_LABEL}')",
    "message": "the name must be a DNS label (at most 63 lowercase letters, digits and '-'): "
    "it names the Service and Deployment that serve it",
}


def _root(spec: dict[str, Any], status: dict[str, Any] | None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": spec,
    }
    if status is not None:
        properties["status"] = status
    return {
        "type": "object",
        "required": ["spec"],
        "properties": properties,
        "x-kubernetes-validations": [_NAME_RULE],
    }


def _workflow_spec() -> dict[str, Any]:
    spec: dict[str, Any] = copy.deepcopy(_schema_of(Workflow)["properties"]["spec"])
    props = spec["properties"]
    endpoint = props["endpoint"]
    # CEL instead of ``pattern``: the same RE2 expression, with a message a person can act on.
    endpoint["properties"]["path"].pop("pattern", None)
    endpoint["x-kubernetes-validations"] = [
        {
            "rule": f"self.path.matches('{ENDPOINT_PATH}')",
            "message": "endpoint.path must be an absolute path of literal segments, e.g. /orders/checkout "
            "(no query, no '//', no trailing '/', no segment starting with '.')",
            "fieldPath": ".path",
        }
    ]
    endpoint["properties"]["contentTypes"]["maxItems"] = 16
    endpoint["properties"]["contentTypes"]["items"]["maxLength"] = 128
    _name_list(props["policies"], "policies")
    _name_list(props["secrets"], "secrets")
    # The document stays free-form (the DSL schema is recursive and too large for a structural
    # schema) except for its header: what serving and version routing cannot do without.
    props["workflow"].update(_DOCUMENT_HEADER)
    props["rollout"]["properties"]["canary"]["properties"]["workflow"].update(_DOCUMENT_HEADER)
    runtime = props["runtime"]
    runtime["properties"]["autoscaling"]["x-kubernetes-validations"] = [
        {"rule": "self.minReplicas <= self.maxReplicas", "message": "minReplicas must not exceed maxReplicas"}
    ]
    for field in ("requests", "limits"):
        runtime["properties"]["resources"]["properties"][field]["maxProperties"] = 8
    _object_defaults(spec)
    return spec


def _policy_spec() -> dict[str, Any]:
    spec: dict[str, Any] = copy.deepcopy(_schema_of(Policy)["properties"]["spec"])
    authentication = spec["properties"]["authentication"]
    authentication["x-kubernetes-validations"] = [
        {"rule": "has(self.bearer) != has(self.apiKey)", "message": "set exactly one of bearer or apiKey"}
    ]
    rate = spec["properties"]["rateLimit"]
    rate["x-kubernetes-validations"] = [
        {"rule": "self.key != 'header' || has(self.header)", "message": "key: header needs the header's name"}
    ]
    _object_defaults(spec)
    return spec


def _status() -> dict[str, Any]:
    status = _schema_of(WorkflowStatus)
    status["properties"]["conditions"]["x-kubernetes-list-type"] = "map"
    status["properties"]["conditions"]["x-kubernetes-list-map-keys"] = ["type"]
    return status


def _crd(
    *,
    kind: str,
    plural: str,
    short: list[str],
    schema: dict[str, Any],
    columns: list[dict[str, Any]],
    status: bool,
) -> dict[str, Any]:
    version: dict[str, Any] = {
        "name": API_VERSION,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": schema},
        "additionalPrinterColumns": columns,
    }
    if status:
        version["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{API_GROUP}",
            "labels": {"app.kubernetes.io/part-of": "baton"},
        },
        "spec": {
            "group": API_GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": short,
                "categories": ["baton"],
            },
            "versions": [version],
        },
    }


def workflow_crd() -> dict[str, Any]:
    ready = '.status.conditions[?(@.type=="Ready")]'
    columns: list[dict[str, Any]] = [
        {"name": "Version", "type": "string", "jsonPath": ".status.version"},
        {"name": "Ready", "type": "string", "jsonPath": f"{ready}.status"},
        {"name": "Endpoint", "type": "string", "jsonPath": ".status.endpoint"},
        {"name": "Runs", "type": "integer", "jsonPath": ".status.runs.total"},
        {"name": "Failures", "type": "integer", "jsonPath": ".status.runs.failed"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        {"name": "Revision", "type": "string", "jsonPath": ".status.revision", "priority": 1},
        {"name": "Reason", "type": "string", "jsonPath": f"{ready}.reason", "priority": 1},
        {"name": "P95ms", "type": "number", "jsonPath": ".status.runs.p95Ms", "priority": 1},
    ]
    return _crd(
        kind="Workflow",
        plural="workflows",
        short=["bwf"],
        schema=_root(_workflow_spec(), _status()),
        columns=columns,
        status=True,
    )


def policy_crd() -> dict[str, Any]:
    columns: list[dict[str, Any]] = [
        {"name": "RPS", "type": "number", "jsonPath": ".spec.rateLimit.requestsPerSecond"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]
    return _crd(
        kind="Policy",
        plural="policies",
        short=["bpol"],
        schema=_root(_policy_spec(), None),
        columns=columns,
        status=False,
    )


_HEADER = "# Generated by `python -m baton_operator.crds crds/` from baton.manifests; do not edit.\n"


def render_all() -> dict[str, str]:
    """File name -> YAML text, exactly as committed under ``crds/``."""
    return {
        f"{crd['spec']['names']['plural']}.{API_GROUP}.yaml": _HEADER
        + yaml.safe_dump(crd, sort_keys=False, default_flow_style=False, width=120)
        for crd in (workflow_crd(), policy_crd())
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m baton_operator.crds", description=__doc__.split("\n")[0])
    parser.add_argument("outdir", nargs="?", type=Path, help="write the CRD files here (default: print them)")
    args = parser.parse_args(argv)
    for name, text in render_all().items():
        if args.outdir is None:
            sys.stdout.write(f"---\n{text}")
        else:
            args.outdir.mkdir(parents=True, exist_ok=True)
            (args.outdir / name).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
