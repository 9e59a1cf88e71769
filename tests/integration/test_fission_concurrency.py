"""Rewards under concurrency, with DynamoDB behind a moto server over HTTP (which serialises
requests per item as DynamoDB does): many finishers at once, a smaller code pool."""
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from tests.support import stack as test_stack
from tests.support.images import png_b64

FINISHERS = 12
CODES = 5


def _event(tenant, code_id, ref, visitor):
    return {"type": "scan", "tenant_id": tenant, "code_id": code_id, "ref": ref, "visitor_id": visitor,
            "new_visitor": True, "wechat": True, "at": datetime.now(timezone.utc).isoformat()}


def test_concurrent_finishers_get_one_reward_each_and_codes_go_to_one_participant_each():
    from chalicelib.auth import service as auth
    from chalicelib.fission import consumers, participants, tasks
    from chalicelib.fission.models import Participant, RewardCode, task_pk
    from chalicelib.ids import new_id
    from chalicelib.livecodes import service as livecodes
    from chalicelib.posters import service as posters

    with test_stack.moto_over_http():
        tenant = auth.create_tenant("race")["tenant_id"]
        code = livecodes.create(tenant, {"name": "c", "channel": "p", "targets": [
            {"kind": "url", "name": "u", "url": "https://example.com"}]})
        template = posters.create(tenant, {"name": "t", "background": png_b64(540, 960), "width": 540,
                                           "height": 960, "layout": {"qr": {"x": 0, "y": 0, "size": 300}}})
        task = tasks.create_task(tenant, {
            "name": "race", "livecode_id": code["id"], "template_id": template["id"], "goal": 2,
            "reward": {"message": "m", "codes": [f"CODE-{i}" for i in range(CODES)]}})
        people = [participants.register(tenant, task["id"], {"nickname": f"p{i}"})[0]
                  for i in range(FINISHERS)]
        for p in people:  # everyone one invite away from the goal
            assert consumers.record_scan(_event(tenant, code["id"], p["ref"], new_id(16))) == "counted"
        # each finisher's last invite arrives twice at once (two consumers), all finishers together
        final = [_event(tenant, code["id"], p["ref"], new_id(16)) for p in people]
        with ThreadPoolExecutor(max_workers=FINISHERS * 2) as pool:
            outcomes = list(pool.map(consumers.record_scan, final + final))

        assert sum(o.endswith("+rewarded") for o in outcomes) == FINISHERS, outcomes
        assert sum(o.startswith("duplicate") for o in outcomes) == FINISHERS, outcomes
        stored = list(Participant.query(task_pk(tenant, task["id"])))
        assert all(int(p.invites) == 2 and p.rewarded_at is not None for p in stored)
        codes = [p.reward_code for p in stored if p.reward_code]
        assert sorted(codes) == [f"CODE-{i}" for i in range(CODES)]  # each code once, all used
        assert sum(1 for p in stored if p.reward_note == "codes-exhausted") == FINISHERS - CODES
        pool_items = list(RewardCode.query(task_pk(tenant, task["id"])))
        owners = {c.code: c.participant_id for c in pool_items}
        assert all(owners[p.reward_code] == p.participant_id for p in stored if p.reward_code)
        stats = tasks.stats(tenant, task["id"])
        assert stats["rewards"] == FINISHERS and stats["invites"] == FINISHERS * 2
        assert stats["codes"]["issued"] == CODES
