"""Result records survive the JSON round trip that carries them out of the worker."""

import dataclasses
import statistics

import pytest

from evaluators.records import (EvalResult, Failure, FailureKind, ProfileReport, Stage, StageReport, TimingStats,
                                VerifyReport)
from evaluators.measurement import summarize


def test_passed_result_round_trips():
    stats = TimingStats(10.0, 1.0, 9.0, 10.5, 20)
    result = EvalResult("level1/relu", "cpu", "cpu",
                        (StageReport(Stage.COMPILE, True, 0.1), StageReport(Stage.VERIFY, True, 0.2)), None,
                        VerifyReport((1, 2), 0.0, 0.0, 1e-3, 1e-3),
                        ProfileReport(stats, TimingStats(20.0, 1.0, 19.0, 20.0, 20), None, "not requested", 2, 4),
                        {"torch": "2.13.0"})
    again = EvalResult.from_json(result.to_json())
    assert again == result
    assert result.to_dict() == {**dataclasses.asdict(result), "passed": True, "speedup_vs_eager": 2.0,
                                "speedup_vs_compile": None}
    data = result.to_dict()
    data["environment"]["torch"] = "changed"
    data["profile"]["candidate"]["median_us"] = -1.0
    assert result.environment["torch"] == "2.13.0" and result.profile.candidate.median_us == 10.0, "the caller's own"
    assert again.speedup_vs_eager == 2.0
    assert again.speedup_vs_compile is None


def test_failed_result_round_trips():
    result = EvalResult("p", "cpu", "cpu", (StageReport(Stage.COMPILE, False, 0.5),),
                        Failure(Stage.COMPILE, FailureKind.BUILD_ERROR, "boom", "tail"))
    again = EvalResult.from_json(result.to_json())
    assert again == result and not again.passed
    assert again.to_dict()["failure"]["kind"] == "build_error"


def test_summary_statistics_by_hand():
    stats = summarize([1000, 2000, 3000, 4000, 100000])
    assert stats.median_us == 3.0
    assert stats.min_us == 1.0
    assert stats.iqr_us == pytest.approx(4.0 - 2.0)
    assert stats.mean_us == pytest.approx(statistics.fmean([1, 2, 3, 4, 100]))
    assert stats.runs == 5
