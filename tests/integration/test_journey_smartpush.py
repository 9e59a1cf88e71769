# ruff: noqa: F811 - the fixtures (tid, now) are imported from test_campaigns_service
"""Smart push in a journey's send step, over moto: GIVEN a content pool and a person interested in
one of its tags, WHEN the journey sends to them on each of three entries, THEN the first send is
their best match (the outbox item says which and why), the second avoids the item sent recently and
takes the next one, and the third finds nothing left and is skipped ``pool_exhausted`` — the
recent sends ride on the person's campaign_contacts item, shared with campaigns."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.audience import users as audience
from chalicelib.campaigns import smartpush
from chalicelib.content import service as content
from chalicelib.journeys import consumers, stats
from tests.integration.test_campaigns_service import DAYTIME, now, tid  # noqa: F401 - fixtures
from tests.integration.test_journeys import event, journey, make_users, outbox, run_until_idle

STEPS = [{"id": "s1", "type": "send", "channel": "outbox", "quiet_hours": False,
          "message": {"text": "为你推荐", "pick": "best_match", "avoid_sent_within_days": 30,
                      "pool": {"tags_any": ["茶", "咖啡"]}}, "next": "x1"},
         {"id": "x1", "type": "exit"}]


def item(tenant_id, title, tags, minutes):
    return content.create(tenant_id, {"type": "text", "title": title, "body": title, "tags": tags},
                          now=DAYTIME - timedelta(minutes=100 - minutes))["id"]


def test_a_journey_send_picks_per_person_avoids_recent_sends_and_skips_when_exhausted(tid, now):
    coffee = item(tid, "手冲咖啡", ["咖啡"], 1)
    tea = item(tid, "春茶上新", ["茶"], 2)  # newer: what a person without a match would get
    jid = journey(tid, steps=STEPS, reentry={"mode": "always"})
    (person,) = make_users(tid, 1)
    for _ in range(2):
        audience.tag_user(tid, person, ["咖啡"], source="interest")
    picked = []
    for n in range(3):
        at = DAYTIME + timedelta(days=n)  # a day apart: the daily cap stays out of it
        now.value = at
        consumers.on_events([event(tid, person, "order_paid", at, order=n)])
        run_until_idle(at)
        picked.append([(o.content or {}).get("id") for o in outbox(tid, jid)])
    sources = sorted(o.source for o in outbox(tid, jid))
    assert picked[0] == [coffee]  # the best match first
    assert sorted(picked[1]) == sorted([coffee, tea])  # then the one not sent recently
    assert sorted(picked[2]) == sorted(picked[1])  # nothing left: no third message
    assert any(s.startswith(f"journey:best_match {coffee} [咖啡]") for s in sources), sources
    s1 = next(s for s in stats.journey_stats(tid, jid)["steps"] if s["id"] == "s1")
    assert s1["outcomes"].get(f"skip_{smartpush.EXHAUSTED}") == 1, s1
