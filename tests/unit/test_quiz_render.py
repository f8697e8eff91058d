from cogs.quiz._render import rank_labels


def test_medals_go_to_the_top_three_scores_and_ties_share_a_rank() -> None:
    assert rank_labels([5, 3, 2, 1]) == ["🥇", "🥈", "🥉", "4."]
    assert rank_labels([3, 3, 1]) == ["🥇", "🥇", "🥉"]
    assert rank_labels([2, 1, 1, 1, 0]) == ["🥇", "🥈", "🥈", "🥈", "5."]


def test_nobody_gets_a_medal_for_nothing() -> None:
    assert rank_labels([0, 0]) == ["1.", "1."]
    assert rank_labels([1, 0]) == ["🥇", "2."]
    assert rank_labels([]) == []
