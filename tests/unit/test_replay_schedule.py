"""When `arbiter replay` sends each row: a fixed rate, the file's own pace times a speed, or at once."""

from arbiter.cli.replay_engine import ReplayRow, due_times


def _rows(offsets: list[float]) -> list[ReplayRow]:
    return [ReplayRow(o, f"a{i}", {}, None) for i, o in enumerate(offsets)]


def test_rate_spaces_rows_evenly_and_speed_follows_the_time_column() -> None:
    rows = _rows([0.0, 1.0, 1.0, 10.0])
    assert due_times(rows, rate=4.0, speed=None) == [0.0, 0.25, 0.5, 0.75]
    assert due_times(rows, rate=None, speed=2.0) == [0.0, 0.5, 0.5, 5.0]
    assert due_times(rows, rate=None, speed=None) is None
