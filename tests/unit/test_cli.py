from baton.cli.main import main


def test_baton_without_a_command_prints_help_and_exits_2() -> None:
    assert main([]) == 2
