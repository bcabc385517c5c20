from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from baton_operator.conditions import Condition, merge_conditions
from baton_operator.decide import (
    blocked_conditions,
    record_revision,
    rollout_conditions,
    rollout_state,
    stale_configmaps,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def deployment(revision: str = "r1", *, replicas: int = 2, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"generation": 3},
        "spec": {
            "replicas": replicas,
            "template": {"metadata": {"labels": {"baton.dev/revision": revision}}},
        },
        "status": {"observedGeneration": 3, **status},
    }


def by_type(conditions: list[Condition]) -> dict[str, Condition]:
    return {c.type: c for c in conditions}


def test_a_rollout_is_complete_only_when_every_replica_is_updated_and_available() -> None:
    none_available = deployment(replicas=2)
    none_available["status"].update(replicas=2, updatedReplicas=2, readyReplicas=0, availableReplicas=0)
    assert rollout_state(none_available, revision="r1").phase == "progressing"
    complete = deployment(replicas=2)
    complete["status"].update(replicas=2, updatedReplicas=2, readyReplicas=2, availableReplicas=2)
    assert rollout_state(complete, revision="r1").phase == "complete"
    old_pods_left = deployment(replicas=2)
    old_pods_left["status"].update(replicas=3, updatedReplicas=2, readyReplicas=3, availableReplicas=3)
    state = rollout_state(old_pods_left, revision="r1")
    assert state.phase == "progressing"
    assert "1 old replicas terminating" in state.message


def test_a_deployment_of_another_revision_or_not_yet_observed_is_progressing() -> None:
    ready = deployment("r1")
    ready["status"].update(replicas=2, updatedReplicas=2, availableReplicas=2)
    assert rollout_state(ready, revision="r2").phase == "progressing"
    stale = deployment("r1")
    stale["status"].update(observedGeneration=2, replicas=2, updatedReplicas=2, availableReplicas=2)
    assert rollout_state(stale, revision="r1").phase == "progressing"
    assert rollout_state(None, revision="r1").message == "the runtime Deployment does not exist yet"


def test_a_deadline_exceeded_rollout_is_stuck_and_degraded() -> None:
    stuck = deployment()
    stuck["status"]["conditions"] = [
        {
            "type": "Progressing",
            "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": "too slow",
        }
    ]
    state = rollout_state(stuck, revision="r1")
    assert state.phase == "stuck"
    conditions = by_type(rollout_conditions(state, revision="r1", version="1.0.0", endpoint="http://x/y"))
    assert conditions["Ready"].status == "False"
    assert conditions["Degraded"].status == "True"
    assert conditions["Stalled"].status == "True"


def test_complete_means_ready_and_kstatus_current() -> None:
    complete = deployment(replicas=1)
    complete["status"].update(replicas=1, updatedReplicas=1, readyReplicas=1, availableReplicas=1)
    conditions = by_type(
        rollout_conditions(
            rollout_state(complete, revision="r1"), revision="r1", version="1.0.0", endpoint="http://e/p"
        )
    )
    assert conditions["Ready"].status == "True"
    assert "http://e/p" in conditions["Ready"].message
    assert conditions["Progressing"].status == "False"
    assert conditions["Reconciling"].status == "False"
    assert conditions["Stalled"].status == "False"


def test_a_blocked_generation_names_the_revision_that_keeps_serving() -> None:
    conditions = by_type(
        blocked_conditions("InvalidDefinition", "spec.workflow.do[0]: bad", generation=4, serving="abc")
    )
    ready = conditions["Ready"]
    assert (ready.status, ready.reason) == ("False", "InvalidDefinition")
    assert "generation 4" in ready.message
    assert "spec.workflow.do[0]: bad" in ready.message
    assert "revision abc keeps serving" in ready.message
    assert conditions["Degraded"].status == "True"
    first = by_type(blocked_conditions("PolicyNotFound", "Policy x not found", generation=1, serving=None))
    assert first["Degraded"].status == "False"
    assert "nothing is deployed" in first["Ready"].message


def test_last_transition_time_moves_only_when_the_status_flips() -> None:
    first = merge_conditions(None, [Condition("Ready", "False", "RollingOut", "a")], generation=1, now=T0)
    later = T0 + timedelta(minutes=5)
    same = merge_conditions(first, [Condition("Ready", "False", "RollingOut", "b")], generation=2, now=later)
    assert same[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert same[0]["message"] == "b"
    assert same[0]["observedGeneration"] == 2
    flipped = merge_conditions(same, [Condition("Ready", "True", "Serving", "c")], generation=2, now=later)
    assert flipped[0]["lastTransitionTime"] == "2026-01-01T00:05:00Z"


def test_conditions_set_by_others_are_kept() -> None:
    theirs = [{"type": "example.com/Audited", "status": "True", "reason": "Ok", "message": ""}]
    merged = merge_conditions(theirs, [Condition("Ready", "True", "Serving", "m")], generation=1, now=T0)
    assert [c["type"] for c in merged] == ["Ready", "example.com/Audited"]


def test_history_is_newest_first_bounded_and_a_rollback_moves_a_revision_to_the_front() -> None:
    history: list[dict[str, Any]] = []
    for generation, revision in enumerate(["a", "b", "c", "d"], start=1):
        history = record_revision(
            history, workflow="greet", revision=revision, version="v", generation=generation, now=T0, limit=3
        )
    assert [e["revision"] for e in history] == ["d", "c", "b"]
    assert history[0]["configMap"] == "greet-d"
    rolled_back = record_revision(
        history, workflow="greet", revision="b", version="v", generation=5, now=T0, limit=3
    )
    assert [e["revision"] for e in rolled_back] == ["b", "d", "c"]
    again = record_revision(
        rolled_back, workflow="greet", revision="b", version="v", generation=6, now=T0, limit=3
    )
    assert [e["revision"] for e in again] == ["b", "d", "c"]
    assert again[0]["generation"] == 6


def test_only_configmaps_out_of_the_history_are_pruned() -> None:
    history = [{"configMap": "greet-b"}, {"configMap": "greet-a"}]
    existing = [{"metadata": {"name": n}} for n in ("greet-a", "greet-b", "greet-old")]
    assert stale_configmaps(existing, history) == ["greet-old"]
