"""MC1/MC2 from answer log-likelihoods (`assay/scorers/_likelihood.py`)."""

from __future__ import annotations

import math

import pytest

from assay.scorers._likelihood import mc1_from_logprobs, mc2_from_logprobs


def test_mc1_and_mc2_arithmetic() -> None:
    logprobs = [math.log(0.5), math.log(0.25), math.log(0.125), math.log(0.125)]
    assert mc2_from_logprobs(logprobs, [1, 0, 1, 0]) == pytest.approx(0.625)
    assert mc2_from_logprobs([-1000.0, -1001.0], [0, 1]) == pytest.approx(1 / (1 + math.e))
    assert mc1_from_logprobs(logprobs) == 0
    assert mc1_from_logprobs([-2.0, -1.0, -1.0]) == 1  # ties: the first, as lm-eval
