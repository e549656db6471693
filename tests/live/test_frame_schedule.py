from ganlab.live.frame_schedule import FRAME_SHARE, FrameSchedule


def test_frames_need_credits_and_keep_to_the_rate():
    f = FrameSchedule(fps=10)
    assert not f.due(1.0, 1, dirty=True, playing=True, iteration=5)  # no credits yet
    f.credits = 2
    assert f.due(1.0, 1, dirty=True, playing=True, iteration=5)
    f.drawn(1.0, dirty=True, iteration=5, cost=0.01)
    assert f.credits == 1 and not f.due(1.05, 1, dirty=False, playing=True, iteration=9)
    assert f.due(1.11, 1, dirty=False, playing=True, iteration=9)
    assert not f.due(1.11, 1, dirty=False, playing=True, iteration=5)  # nothing new to draw


def test_sharing_slows_frames_so_drawing_keeps_to_its_share():
    f = FrameSchedule(fps=30)
    f.cost = 0.004
    assert f.interval_for(1) == 1 / 30
    assert abs(f.interval_for(10) - 0.004 * 10 / FRAME_SHARE) < 1e-12
