"""``baton graph``: a workflow's control flow as Mermaid and DOT."""

from __future__ import annotations

from pathlib import Path

import pytest

from baton.cli.graph import build_graph, render_dot, render_mermaid
from baton.cli.main import main
from tests.server._support import call, manifest, write

TASKS = [
    {
        "check": {
            "switch": [{"big": {"when": ".total > 100", "then": "review"}}, {"small": {"then": "gather"}}]
        }
    },
    {
        "gather": {
            "fork": {
                "branches": [
                    {"user": call("http://users.internal/u")},
                    {"orders": call("http://orders.internal/o")},
                ]
            }
        }
    },
    {"review": {"set": {"reviewed": True}, "then": "end"}},
]


def test_switch_cases_become_labelled_edges_to_their_targets() -> None:
    graph = build_graph(manifest(TASKS))
    labels = {(s, t): label for s, t, label, _ in graph.edges}
    assert labels[("t_0", "t_2")] == "big: .total > 100"
    assert labels[("t_0", "t_1")] == "small (default)"


def test_fork_branches_leave_the_fork_and_meet_at_its_join() -> None:
    graph = build_graph(manifest(TASKS))
    edges = {(s, t) for s, t, _, _ in graph.edges}
    assert {("t_1", "t_1b0_0"), ("t_1", "t_1b1_0"), ("t_1b0_0", "t_1j"), ("t_1b1_0", "t_1j")} <= edges
    assert ("t_1j", "t_2") in edges  # the join continues to the next task in order
    assert ("t_2", "wf_end") in edges  # then: end


def test_mermaid_output_nests_the_fork_in_a_subgraph_and_quotes_labels() -> None:
    text = render_mermaid(build_graph(manifest(TASKS)))
    assert text.startswith("flowchart TD\n")
    assert 'subgraph t_1g["gather"]' in text
    assert 't_1b0_0("user<br/>call GET http://users.internal/u")' in text
    assert "\n  end\n" in text
    assert " end(" not in text


def test_dot_output_is_a_digraph_with_clusters() -> None:
    text = render_dot(build_graph(manifest(TASKS)))
    assert text.startswith("digraph workflow {")
    assert "subgraph cluster_t_1g" in text
    assert 't_0 -> t_2 [label="big: .total > 100"];' in text


def test_the_command_prints_mermaid_for_a_manifest_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "flow.yaml", manifest(TASKS))
    assert main(["graph", str(path)]) == 0
    assert "flowchart TD" in capsys.readouterr().out
    assert main(["graph", str(path), "--format", "dot"]) == 0
    assert "digraph workflow" in capsys.readouterr().out


def test_the_command_refuses_a_file_that_is_not_a_workflow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("just: text\n")
    assert main(["graph", str(path)]) == 2
    assert "neither a Workflow manifest nor a workflow document" in capsys.readouterr().err
