"""Workflow and Policy bodies as the apiserver hands them to the operator."""

from __future__ import annotations

import copy
from typing import Any

DOCUMENT: dict[str, Any] = {
    "document": {"dsl": "1.0.3", "namespace": "shop", "name": "greet", "version": "1.0.0"},
    "do": [{"hello": {"set": {"greeting": '${ "hello " + .name }'}}}],
}


def workflow_body(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "baton.dev/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "name": "greet",
            "namespace": "shop",
            "uid": "0b7e1f4e-1111-2222-3333-444455556666",
            "generation": 1,
            "resourceVersion": "100",
        },
        "spec": {"endpoint": {"path": "/greet"}, "workflow": copy.deepcopy(DOCUMENT)},
    }
    body["spec"].update(copy.deepcopy(spec))
    return body


def policy_body(name: str = "callers", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "baton.dev/v1alpha1",
        "kind": "Policy",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": spec or {"authentication": {"apiKey": {"secretRef": "caller-keys"}}},
    }
