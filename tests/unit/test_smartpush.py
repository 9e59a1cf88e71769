"""Smart push scoring and choice (pure): GIVEN a pool and a user profile, WHEN choosing, THEN the
item with the highest affinity not sent recently wins, ties go to the newest, and every choice
says why."""
from __future__ import annotations

import pytest

from chalicelib.campaigns import smartpush
from chalicelib.campaigns.smartpush import Choice, PoolItem, Profile
from chalicelib.errors import ValidationFailed

POOL = [PoolItem("c3", ("护眼", "stage:new")), PoolItem("c2", ("护肤", "美白")),
        PoolItem("c1", ("护眼", "护肤"))]
TODAY = 20_000


def test_interest_weights_and_held_tags_score_each_matching_item_tag():
    user = Profile({"护肤": 3.0}, frozenset({"美白"}), "active")
    assert smartpush.score(POOL[1], user) == (4.0, ("护肤", "美白"))
    assert smartpush.score(POOL[0], user) == (0.0, ())


def test_the_users_stage_named_by_an_item_tag_adds_the_stage_weight():
    user = Profile({}, frozenset(), "new")
    assert smartpush.score(POOL[0], user) == (smartpush.STAGE_WEIGHT, ("stage:new",))
    assert smartpush.score(PoolItem("x", ("new",)), user)[0] == smartpush.STAGE_WEIGHT


def test_the_best_match_wins_and_explains_itself():
    user = Profile({"护肤": 2.0, "护眼": 1.0}, frozenset(), "active")
    choice = smartpush.choose(POOL, user, {}, TODAY, 0, None)
    assert choice == Choice("c1", "best_match", 3.0, ("护眼", "护肤"), ())


def test_ties_go_to_the_newest_item_whatever_the_pool_order():
    user = Profile({"护眼": 1.0}, frozenset(), "active")
    for pool in (POOL, list(reversed(POOL))):
        assert smartpush.choose(pool, user, {}, TODAY, 0, None).content_id == "c3"


def test_items_sent_within_the_window_are_skipped_and_listed():
    user = Profile({"护肤": 2.0, "护眼": 1.0}, frozenset(), "active")
    recent = {"c1": TODAY - 6, "c3": TODAY - 7}
    choice = smartpush.choose(POOL, user, recent, TODAY, 7, None)
    assert (choice.content_id, choice.skipped_recent) == ("c2", ("c1",))
    assert smartpush.choose(POOL, user, recent, TODAY, 0, None).content_id == "c1"  # no window


def test_no_affinity_falls_back_else_the_newest_else_nothing():
    stranger = Profile({"旅行": 5.0}, frozenset(), "active")
    assert smartpush.choose(POOL, stranger, {}, TODAY, 0, "fb") == Choice("fb", "fallback")
    assert smartpush.choose(POOL, stranger, {}, TODAY, 0, None) == Choice("c3", "newest")
    every = {p.content_id: TODAY for p in POOL}
    gone = smartpush.choose(POOL, stranger, every, TODAY, 3, None)
    assert (gone.content_id, gone.reason) == (None, "pool_exhausted")
    assert set(gone.skipped_recent) == {"c1", "c2", "c3"}


def test_a_choice_survives_its_stored_record():
    choice = Choice("c1", "best_match", 3.0, ("护眼", "护肤"), ("c9",))
    assert Choice.from_record(choice.to_record()) == choice
    assert choice.view()["matched_tags"] == ["护眼", "护肤"]


def test_profile_from_a_user_view_separates_interest_weights_from_held_tags():
    view = {"stage": "paying", "tag_details": {
        "护肤": {"sources": ["interest"], "weight": 4},
        "vip": {"sources": ["manual"], "weight": 0},
        "美白": {"sources": ["channel", "interest"], "weight": 2}}}
    p = Profile.from_view(view)
    assert p.interests == {"护肤": 4.0, "美白": 2.0}
    assert p.tags == frozenset({"vip", "美白"}) and p.stage == "paying"


def test_recent_sends_are_remembered_compactly_and_old_ones_dropped():
    contact = {"pk": {"S": "t#u"}}
    for i in range(smartpush.RECENT_KEEP + 5):
        contact = smartpush.remember(contact, f"c{i:03d}", TODAY)
    contact = smartpush.remember(contact, "new", TODAY + 1)
    recent = smartpush.recent_sends(contact)
    assert len(recent) == smartpush.RECENT_KEEP and recent["new"] == TODAY + 1
    later = smartpush.remember(contact, "x", TODAY + smartpush.MAX_AVOID_DAYS)
    assert set(smartpush.recent_sends(later)) == {"x", "new"}
    assert later["pk"] == {"S": "t#u"}


@pytest.mark.parametrize("message, field", [
    ({"pick": "random", "pool": {"tags_any": ["a"]}}, "message.pick"),
    ({"pick": "best_match"}, "message.pool"),
    ({"pick": "best_match", "pool": {}}, "message.pool"),
    ({"pick": "best_match", "pool": {"tags_any": "a"}}, "message.pool.tags_any"),
    ({"pick": "best_match", "pool": {"type": "poster"}}, "message.pool.type"),
    ({"pick": "best_match", "pool": {"tags_any": ["a"]}, "avoid_sent_within_days": 91},
     "message.avoid_sent_within_days"),
    ({"pick": "best_match", "pool": {"tags_any": ["a"]}, "avoid_sent_within_days": True},
     "message.avoid_sent_within_days"),
])
def test_invalid_smart_messages_name_their_field(message, field):
    with pytest.raises(ValidationFailed) as err:
        smartpush.parse(message)
    assert err.value.field == field


def test_a_valid_smart_message_is_normalised():
    clean = smartpush.parse({"pick": "best_match", "pool": {"tags_any": [" 护眼 ", "护眼"],
                                                            "type": "article"},
                             "avoid_sent_within_days": 14, "fallback_content_id": "c1"})
    assert clean == {"pick": "best_match", "pool": {"tags_any": ["护眼"], "type": "article"},
                     "avoid_sent_within_days": 14, "fallback_content_id": "c1"}


def test_the_index_scores_exactly_as_score_does_for_every_item():
    import random

    rng = random.Random(7)
    tags = [f"t{i}" for i in range(12)] + ["stage:new", "active"]
    pool = [PoolItem(f"c{i:03d}", tuple(rng.sample(tags, 3))) for i in range(60)]
    index = smartpush.Index(pool)
    for _ in range(50):
        user = Profile({t: float(rng.randint(0, 3)) for t in rng.sample(tags[:12], 4)},
                       frozenset(rng.sample(tags[:12], 2)), rng.choice(["new", "active", ""]))
        scored = index.scores(user)
        for item in pool:
            value, matched = smartpush.score(item, user)
            assert scored.get(item.content_id, (0.0, []))[0] == value
            if value:
                assert tuple(scored[item.content_id][1]) == matched
