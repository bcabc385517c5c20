import pytest

from tests.ctk._gherkin import GherkinError, parse_feature
from tests.ctk._kit import feature_files

FEATURE = '''Feature: Set Task
  As an implementer
  I want things

  # a comment between scenarios
  Scenario: Set Task
    Given a workflow with definition:
    """yaml
    do:
      - a:
          set:
            x: 1
    """
    And given the workflow input is:
      """yaml
      k: v
      """
    When the workflow is executed
    Then the workflow should complete

  Scenario: Second
    Given a workflow with definition:
    """
    do: []
    """
    When the workflow is executed
    Then the workflow should fault'''


def test_a_feature_is_read_into_scenarios_steps_and_doc_strings() -> None:
    feature = parse_feature(FEATURE, origin="set.feature")
    assert feature.name == "Set Task"
    assert feature.description == "As an implementer\nI want things"
    assert [s.name for s in feature.scenarios] == ["Set Task", "Second"]
    steps = feature.scenarios[0].steps
    assert [(s.keyword, s.text) for s in steps] == [
        ("Given", "a workflow with definition:"),
        ("And", "given the workflow input is:"),
        ("When", "the workflow is executed"),
        ("Then", "the workflow should complete"),
    ]
    assert steps[0].doc_string is not None
    assert steps[0].doc_string.media_type == "yaml"
    # The opening delimiter's indentation is removed, nested indentation is kept.
    assert steps[0].doc_string.content == "do:\n  - a:\n      set:\n        x: 1"
    assert steps[1].doc_string is not None
    assert steps[1].doc_string.content == "k: v"
    assert steps[0].line == 7
    second = feature.scenarios[1].steps[0].doc_string
    assert second is not None
    assert second.media_type == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Scenario: x\n  Given a", "expected 'Feature:'"),
        ("Feature: f\n  Background:\n    Given a", "'Background' is not supported"),
        ("Feature: f\n  Scenario Outline: o\n    Given a", "'Scenario Outline' is not supported"),
        ("Feature: f\n  @tag\n  Scenario: s\n    Given a", "tags are not supported"),
        ("Feature: f\n  Scenario: s\n    Given a\n    | a | b |", "data tables are not supported"),
        ('Feature: f\n  Scenario: s\n    Given a:\n    """yaml\n    x: 1\n', "never closed"),
        ("Feature: f\n  Scenario: s\n    Given a\n    Whenever b", "unrecognised line"),
        ("Feature: f\n  Scenario: s\n  Scenario: t\n    Given a", "'s' has no steps"),
        ("Feature: f\n  Scenario: s\n    Given a\n  Scenario: s\n    Given b", "duplicate scenario"),
        ("Feature: f\nFeature: g", "exactly one Feature"),
        ("# only a comment", "no Feature"),
        ("Feature: f\n  Given a", "must belong to a Scenario"),
    ],
)
def test_syntax_outside_the_kit_subset_is_refused_with_its_line(text: str, message: str) -> None:
    with pytest.raises(GherkinError, match=message) as caught:
        parse_feature(text, origin="bad.feature")
    assert str(caught.value).startswith("bad.feature:")


def test_every_official_feature_parses() -> None:
    files = feature_files()
    if not files:
        pytest.skip("the conformance kit (../shared/serverless-workflow/ctk) is absent")
    for path in files:
        feature = parse_feature(path.read_text(encoding="utf-8"), origin=path.name)
        assert feature.scenarios, path.name
