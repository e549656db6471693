from ganlab.engine.trainer import Trainer
from ganlab.live.metric_budget import MetricBudget


def test_rows_wait_after_a_costly_one_and_w1_keeps_to_its_cap():
    t = Trainer({"generator": {"neurons": 8}, "discriminator": {"neurons": 8},
                 "metrics": {"w1_samples": 5000}, "device": "cpu"})  # fmt: skip
    budget = MetricBudget(w1_points=200)
    assert budget.record(t)
    assert "w1" in t.history[-1]
    assert budget.free_at > 0 and budget.w1_free_at > budget.free_at
    assert not budget.record(t)  # straight after: over its share of the time
    assert len(t.history) == 1
    budget.free_at = 0.0  # the time has passed, W1's has not
    assert budget.record(t) and "w1" not in t.history[-1]
