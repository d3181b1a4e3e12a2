"""What a metric is: declared once, by the stage that produces it, and read by everyone.

A :class:`MetricSpec` says a metric's name, range, direction, kind, whether it has
per-category variants, what the benchmark or config must provide for it, whether it
is a safety metric, its unit and its fix hint. Gates, the regression comparison,
``releasegate validate``, the reports and ``docs/metrics.md`` read these
declarations; none keeps a list of its own. Inside the code a metric is named by a
typed :class:`MetricKey`; the string form ``accuracy[create]`` is only for configs
and reports.

Imports nothing from inside the package but ``errors``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum

from releasegate.errors import ConfigError


@dataclass(frozen=True, order=True)
class MetricKey:
    """A metric name with an optional category: ``accuracy`` or ``accuracy[create]``."""

    name: str
    category: str | None = None

    @classmethod
    def parse(cls, text: str) -> MetricKey:
        """Read the string form used in configs and reports.

        Raises:
            ConfigError: an empty name or category, or unbalanced brackets.
        """
        raw = text.strip()
        if raw.endswith("]") and "[" in raw:
            name, _, category = raw[:-1].partition("[")
            if not name or not category or "[" in category or "]" in category:
                raise ConfigError(f"metric {text!r}: expected NAME or NAME[CATEGORY]")
            return cls(name=name, category=category)
        if not raw or "[" in raw or "]" in raw:
            raise ConfigError(f"metric {text!r}: expected NAME or NAME[CATEGORY]")
        return cls(name=raw)

    def __str__(self) -> str:
        return self.name if self.category is None else f"{self.name}[{self.category}]"

    def with_category(self, category: str | None) -> MetricKey:
        """The same metric for another category (None: overall)."""
        return MetricKey(self.name, category)


@dataclass(frozen=True)
class Range:
    """The values a metric can take, and the unit they are in."""

    low: float
    high: float
    unit: str

    def contains(self, value: float) -> bool:
        """True when ``value`` is a finite number inside the range (ends included)."""
        return math.isfinite(value) and self.low <= value <= self.high

    def __str__(self) -> str:
        high = "∞" if math.isinf(self.high) else f"{self.high:g}"
        return f"[{self.low:g}, {high}] ({self.unit})"


RATE = Range(0.0, 1.0, "rate")
SCORE_1_5 = Range(1.0, 5.0, "score")
SECONDS = Range(0.0, math.inf, "seconds")
USD = Range(0.0, math.inf, "usd")
TOKENS = Range(0.0, math.inf, "tokens")
PER_SECOND = Range(0.0, math.inf, "count/s")
TOKENS_PER_SECOND = Range(0.0, math.inf, "tokens/s")
COUNT = Range(0.0, math.inf, "count")


class Direction(str, Enum):
    """Which way is better."""

    HIGHER = "higher_is_better"
    LOWER = "lower_is_better"

    @property
    def higher_is_better(self) -> bool:
        """True for metrics where more is better (accuracy), False otherwise (harm, cost)."""
        return self is Direction.HIGHER


class Kind(str, Enum):
    """What a metric is computed from, which decides how two runs can be compared."""

    BINARY = "per-example binary outcome"
    """A proportion of per-example pass/fail outcomes: compared paired (McNemar)."""
    SCORE = "per-example score"
    """A mean of per-item scores (the judge's 1–5): compared paired on shared items."""
    AGGREGATE = "aggregate"
    """A whole-run figure (throughput, cost, latency percentile): no per-example pairs."""


class Need(str, Enum):
    """What a run must provide for a metric to exist; ``validate`` checks each."""

    EXPECTED_ACTION = (
        "an `expected_action` (or an expected JSON object with an `action` key) on at "
        "least one benchmark example"
    )
    EXPECTED_OBJECT = "an `expected_output` that is a JSON object on at least one example"
    ATTACKS = "a red-team suite with attacks (`safety.suite_path`)"
    BENIGN = "benign controls in the red-team suite (`safety.suite_path`)"
    JUDGE = "a judge (`judge.provider`)"
    TOKEN_PRICES = "token prices (`cost.input_price_per_mtok` and `cost.output_price_per_mtok`)"
    GPU_PRICE = "a GPU hourly rate (`cost.gpu_usd_per_hour`)"
    TOKEN_COUNTS = "a backend that reports token counts"
    REPEATS = "`generation.repeats` of 2 or more"
    DETERMINISM_CHECK = "the determinism check (`determinism.enabled: true`)"
    REQUEST_TIMING = (
        "a backend that times each request on its own (an endpoint), or a local model "
        "with `generation.latency_sample` set"
    )


@dataclass(frozen=True)
class MetricSpec:
    """The one declaration of a metric."""

    name: str
    description: str
    range: Range
    direction: Direction
    kind: Kind
    stage: str
    """The stage that produces it."""
    per_category: bool = False
    """Also reported per benchmark (or attack) category as ``name[category]``."""
    has_interval: bool = False
    """Comes with a confidence interval, so gates may read ``ci_low``/``ci_high``."""
    needs: tuple[Need, ...] = ()
    safety: bool = False
    """A safety metric: gated at full strength, never loosened by multiplicity."""
    outcome_key: str | None = None
    """For ``BINARY`` metrics: the key of the per-example outcome in ``ExampleResult``."""
    derived_from: tuple[str, ...] = ()
    """Metrics this one is computed from (``judge_overall`` is the mean of the criteria)."""
    fix_hint: str = ""
    """What usually fixes a failure, shown under a failed gate."""

    @property
    def unit(self) -> str:
        """The unit of the metric's values (``rate``, ``score``, ``seconds``, ...)."""
        return self.range.unit

    @property
    def higher_is_better(self) -> bool:
        """Shorthand for ``direction.higher_is_better``."""
        return self.direction.higher_is_better

    @property
    def comparable_per_example(self) -> bool:
        """Whether a baseline comparison can pair it example by example."""
        return self.kind is not Kind.AGGREGATE


class MetricCatalog(Mapping[str, MetricSpec]):
    """Every metric a configured run can produce, by base name."""

    def __init__(self, specs: Iterable[MetricSpec]) -> None:
        self._specs: dict[str, MetricSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"metric {spec.name!r} is declared twice")
            self._specs[spec.name] = spec

    def __getitem__(self, name: str) -> MetricSpec:
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def spec_for(self, key: MetricKey | str) -> MetricSpec | None:
        """The declaration of ``key`` (a category variant resolves to its base metric)."""
        key = key if isinstance(key, MetricKey) else MetricKey.parse(key)
        spec = self._specs.get(key.name)
        if spec is None or (key.category is not None and not spec.per_category):
            return None
        return spec

    def resolve(self, text: str, *, where: str) -> tuple[MetricKey, MetricSpec]:
        """Parse and look up a metric named in a config.

        Raises:
            ConfigError: unknown name (with a did-you-mean), or a category on a metric
                that has no per-category variants.
        """
        key = MetricKey.parse(text)
        spec = self._specs.get(key.name)
        if spec is None:
            close = difflib.get_close_matches(key.name, list(self._specs), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{where}: unknown metric {key.name!r}{hint}")
        if key.category is not None and not spec.per_category:
            raise ConfigError(
                f"{where}: metric {key.name!r} has no per-category variants "
                f"(remove [{key.category}])"
            )
        return key, spec
