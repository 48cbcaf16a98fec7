"""InlinePolicy: which thread-profile calls run on the serving thread (pure: times passed in)."""

from snakepit_bridge._internal.inline_policy import InlinePolicy


def test_a_tool_not_seen_yet_runs_on_a_call_thread():
    assert not InlinePolicy().inline("echo")


def test_a_tool_quick_in_cpu_time_runs_inline_even_if_its_wall_time_on_call_threads_was_long():
    policy = InlinePolicy(under_s=0.0005)
    # 20 µs of CPU, 1.3 ms of wall time waiting for the GIL behind 63 other call threads.
    policy.ran("echo", 0.00002, 0.0013, inline=False)
    assert policy.inline("echo")


def test_a_tool_slow_in_cpu_time_stays_on_call_threads():
    policy = InlinePolicy(under_s=0.0005)
    policy.ran("fit", 0.004, 0.004, inline=False)
    assert not policy.inline("fit")


def test_the_average_moves_a_fifth_of_the_way_per_call():
    policy = InlinePolicy(under_s=0.0005)
    policy.ran("t", 0.001, 0.001, inline=False)
    calls = 0
    while not policy.inline("t"):
        policy.ran("t", 0.0001, 0.0001, inline=False)
        calls += 1
    # 1 ms → under 0.5 ms at 0.8 per call toward 0.1 ms: 4 calls.
    assert calls == 4


def test_a_blocking_tool_is_barred_after_one_slow_inline_call_then_tried_again_less_and_less_often():
    policy = InlinePolicy(under_s=0.0005, slow_s=0.002, first_bar=4)
    policy.ran("sleep", 0.00001, 0.00001, inline=False)  # sleeping costs no CPU: looks quick
    assert policy.inline("sleep")
    policy.ran("sleep", 0.00001, 0.010, inline=True)  # ...but it blocked the serving thread 10 ms
    refused = 0
    while not policy.inline("sleep"):
        refused += 1
    assert refused == 4
    policy.ran("sleep", 0.00001, 0.010, inline=True)
    refused = 0
    while not policy.inline("sleep"):
        refused += 1
    assert refused == 8


def test_a_quick_inline_call_after_a_bar_starts_the_count_over():
    policy = InlinePolicy(under_s=0.0005, slow_s=0.002, first_bar=4)
    policy.ran("echo", 0.00002, 0.00002, inline=False)
    for _ in range(3):  # preempted on every retry: 4, 8, 16
        policy.ran("echo", 0.00002, 0.010, inline=True)
        while not policy.inline("echo"):
            pass
    policy.ran("echo", 0.00002, 0.00005, inline=True)  # quick again
    policy.ran("echo", 0.00002, 0.010, inline=True)  # one more slow call: a bar of 4, not 32
    refused = 0
    while not policy.inline("echo"):
        refused += 1
    assert refused == 4


def test_a_quick_inline_call_does_not_bar_its_tool():
    policy = InlinePolicy(under_s=0.0005, slow_s=0.002)
    policy.ran("echo", 0.00002, 0.00002, inline=False)
    for _ in range(100):
        assert policy.inline("echo")
        policy.ran("echo", 0.00002, 0.0001, inline=True)
