"""AWS calls per scan on a warm container and per consumer batch of ten, as bench.scanpath counts
them (deterministic counts, no timing); the capacity model and the cost fed with them."""
from bench import scanpath


def test_calls_per_scan_and_per_consumer_batch(aws_stack):
    m = scanpath.measure()
    # request path: the claim on one counter shard and the publish; nothing else
    assert m["request"] == {"new": {"UpdateItem": 1, "SendMessage": 1},
                            "returning": {"SendMessage": 1},
                            "new_uncapped": {"SendMessage": 1}}
    # consumer, per batch of ten scans of one code-day: the stats (code-day, tenant-day,
    # channel-day) and the scan log; no read of the code (the check waits for the threshold);
    # visitors placed on a target without capacity: one more ADD on its counter
    assert m["consumer"]["new"] == {"UpdateItem": 3, "BatchWriteItem": 1}
    assert m["consumer"]["returning"] == {"UpdateItem": 3, "BatchWriteItem": 1}
    assert m["consumer"]["new_uncapped"] == {"UpdateItem": 4, "BatchWriteItem": 1}
    assert m["kb"]["counter"] < 1  # a claim is one write unit
    model = scanpath.capacity_model(m)
    assert model["claim_units_per_new_visitor"] == 1
    assert model["scans_per_s_request_path"] >= 20_000
    assert model["new_visitors_per_s_one_target"] >= 5_000
    assert scanpath.cost(m, "returning") < scanpath.cost(m, "new")
