"""Progress bars for long CLI work (stderr, so stdout stays parseable)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def stage_bar(description: str, weights: Mapping[str, float]) -> Iterator:
    """A 0-100% bar fed by `(stage, fraction)` calls, stages weighted by `weights`."""
    total = sum(weights.values())
    starts, acc = {}, 0.0
    for stage, w in weights.items():
        starts[stage] = acc
        acc += w
    with tqdm(total=100, desc=description, unit="%", leave=True, dynamic_ncols=True,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}{postfix}]") as bar:

        def report(stage: str, fraction: float) -> None:
            done = 100.0 * (starts.get(stage, 0.0) + weights.get(stage, 0.0) * fraction) / total
            bar.set_postfix_str(stage, refresh=False)
            bar.update(max(0.0, round(done - bar.n, 2)))

        yield report
        bar.update(100 - bar.n)
