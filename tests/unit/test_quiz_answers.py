"""Free-answer judging: forgiving about spacing, case and typos, strict about numbers and meaning."""

from __future__ import annotations

import pytest

from bot.services.quiz.answers import judge, normalize


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("EC 2", "ec2"),
        ("\uff25\uff23\uff12", "ec2"),  # full-width, as a Korean IME types it
        ("오토 스케일링", "오토스케일링"),
        ("  Auto-Scaling! ", "autoscaling"),
        ("The Target Group", "targetgroup"),
        ("an ALB", "alb"),
        ("A", "a"),
        ("the", "the"),
        ("3.14", "3.14"),
        ("1,000", "1000"),
        ("-1", "-1"),
        ("1/2", "1/2"),
        ("「지지도」", "지지도"),
        ("%", "%"),
    ],
)
def test_normalize(text: str, key: str) -> None:
    assert normalize(text) == key


@pytest.mark.parametrize(
    ("given", "answer"),
    [
        ("EC 2", "EC2"),
        ("ec2", "EC2"),
        ("오토스케일링", "오토 스케일링"),
        ("오토 스케일링", "오토스케일링"),
        ("Cloudwach", "CloudWatch"),
        ("cloud watch", "CloudWatch"),
        ("RunablePassthrough", "RunnablePassthrough"),
        ("오토스캐일링", "오토스케일링"),
        ("the target group", "target group"),
        ("Target-Group", "target group"),
        ("%", "%"),
    ],
)
def test_accepted(given: str, answer: str) -> None:
    judgement = judge(given, [answer])
    assert judgement.correct, judgement
    assert judgement.matched == answer


@pytest.mark.parametrize(
    ("given", "answer"),
    [
        ("EBS", "EFS"),
        ("S3", "S4"),
        ("3", "8"),
        ("1종 오류", "2종 오류"),
        ("ec3", "EC2"),
        ("supervised", "unsupervised"),
        ("지도학습", "비지도학습"),
        ("CloudTrail", "CloudWatch"),
        ("", "EC2"),
        ("!!!", "EC2"),
        ("3.14", "314"),
    ],
)
def test_refused(given: str, answer: str) -> None:
    judgement = judge(given, [answer])
    assert not judgement.correct, judgement
    assert judgement.matched is None


def test_numbers_never_match_other_numbers() -> None:
    for guess in "0123456789":
        for answer in "0123456789":
            assert judge(guess, [answer]).correct == (guess == answer)


def test_aliases_count_and_the_matched_one_is_reported() -> None:
    answers = ["Auto Scaling", "오토 스케일링", "EC2 Auto Scaling"]
    assert judge("오토스케일링", answers).matched == "오토 스케일링"
    assert judge("ec2 autoscaling", answers).matched == "EC2 Auto Scaling"


def test_an_exact_match_is_full_similarity() -> None:
    judgement = judge("cloudwatch", ["CloudWatch"])
    assert (judgement.correct, judgement.similarity) == (True, 1.0)


def test_a_near_miss_reports_how_close_it_was() -> None:
    judgement = judge("EFS", ["EBS"])
    assert not judgement.correct
    assert 0.5 < judgement.similarity < 1.0


def test_the_closest_accepted_alias_wins() -> None:
    judgement = judge("CloudWatchh", ["CloudWatch Logs", "CloudWatch"])
    assert judgement.matched == "CloudWatch"
