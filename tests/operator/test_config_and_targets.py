from __future__ import annotations

from typing import Any

import pytest

from baton_operator.config import OperatorConfig
from baton_operator.scrape import Target, endpointslice_targets, load_resolver


def test_settings_come_from_the_environment_with_defaults() -> None:
    config = OperatorConfig.from_env(
        {
            "BATON_RUNTIME_IMAGE": "r/runtime:9",
            "BATON_NAMESPACES": "a, b,",
            "BATON_STATUS_INTERVAL": "2.5",
            "BATON_LEADER_ELECTION": "false",
            "BATON_DEFAULT_RESOURCES": '{"requests": {"cpu": "1"}}',
        }
    )
    assert config.runtime_image == "r/runtime:9"
    assert config.namespaces == ("a", "b")
    assert config.status_interval == 2.5
    assert config.leader_election is False
    assert config.default_resources == {"requests": {"cpu": "1"}}
    assert OperatorConfig.from_env({}).namespaces == ()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"BATON_STATUS_INTERVAL": "soon"}, "BATON_STATUS_INTERVAL='soon' is not a number"),
        ({"BATON_STATUS_INTERVAL": "0.1"}, "at least 1 second"),
        ({"BATON_DEFAULT_RESOURCES": "{"}, "BATON_DEFAULT_RESOURCES is not JSON"),
        ({"BATON_DEFAULT_RESOURCES": "[]"}, "must be a JSON object"),
    ],
)
def test_a_bad_setting_is_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OperatorConfig.from_env(env)


class Slices:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.selector: str | None = None

    async def list(
        self, api_version: str, kind: str, namespace: str, *, label_selector: str
    ) -> list[dict[str, Any]]:
        assert (api_version, kind) == ("discovery.k8s.io/v1", "EndpointSlice")
        self.selector = label_selector
        return self.items


async def test_only_ready_endpoints_of_the_workflow_service_are_scraped() -> None:
    slices = Slices(
        [
            {
                "ports": [{"name": "http", "port": 8080}],
                "endpoints": [
                    {
                        "addresses": ["10.0.0.1"],
                        "conditions": {"ready": True},
                        "targetRef": {"name": "greet-a"},
                    },
                    {
                        "addresses": ["10.0.0.2"],
                        "conditions": {"ready": False},
                        "targetRef": {"name": "greet-b"},
                    },
                    {
                        "addresses": ["fd00::3"],
                        "conditions": {"ready": True},
                        "targetRef": {"name": "greet-c"},
                    },
                ],
            },
            {"ports": [{"name": "other", "port": 9}], "endpoints": [{"addresses": ["10.0.0.9"]}]},
        ]
    )
    targets = await endpointslice_targets(slices, "shop", "greet")  # type: ignore[arg-type]
    assert slices.selector == "kubernetes.io/service-name=greet"
    assert targets == [Target("greet-a", "http://10.0.0.1:8080"), Target("greet-c", "http://[fd00::3]:8080")]


def test_a_resolver_is_named_by_module_and_function() -> None:
    assert load_resolver("") is endpointslice_targets
    assert load_resolver("baton_operator.scrape:endpointslice_targets") is endpointslice_targets
    with pytest.raises(ValueError, match="cannot be imported"):
        load_resolver("baton_operator.scrape:nothing_here")
