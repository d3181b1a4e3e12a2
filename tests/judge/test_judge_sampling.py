from __future__ import annotations

from collections import Counter

from judge_support import make_examples

from releasegate.judge.sampling import priority_order, target_size


def test_target_size_is_rate_with_minimum_and_caps() -> None:
    assert target_size(500, rate=0.1, minimum=10, maximum=None) == 50
    assert target_size(40, rate=0.1, minimum=10, maximum=None) == 10
    assert target_size(6, rate=0.1, minimum=10, maximum=None) == 6
    assert target_size(500, rate=0.1, minimum=10, maximum=20) == 20
    assert target_size(101, rate=0.1, minimum=1, maximum=None) == 11


def test_same_seed_same_sample_and_other_seed_differs() -> None:
    exs = make_examples(200)
    a = [e.id for e in priority_order(exs, 7)[:20]]
    b = [e.id for e in priority_order(list(reversed(exs)), 7)[:20]]
    c = [e.id for e in priority_order(exs, 8)[:20]]
    assert a == b  # independent of input order
    assert set(a) != set(c)


def test_sample_is_stratified_proportionally() -> None:
    cats = ("big",) * 6 + ("mid",) * 3 + ("small",)
    exs = make_examples(300, cats)  # 180 big, 90 mid, 30 small
    sample = priority_order(exs, 3)[:30]
    counts = Counter(e.category for e in sample)
    assert counts == {"big": 18, "mid": 9, "small": 3}


def test_smaller_sample_is_subset_of_larger_one() -> None:
    exs = make_examples(120)
    order = [e.id for e in priority_order(exs, 11)]
    for small, large in ((5, 12), (12, 40), (40, 120)):
        assert set(order[:small]) <= set(order[:large])


def test_baseline_and_candidate_runs_sample_same_ids() -> None:
    # Same benchmark and seed, different outputs: the sample depends only on ids and seed.
    exs = make_examples(80)
    assert [e.id for e in priority_order(exs, 5)[:10]] == [
        e.id for e in priority_order(tuple(exs), 5)[:10]
    ]
