"""Fetch block stacking: the recommended Stack2 recipe beside its one-critic comparison, and
Stack3's methods by number of demos and with the demos' mirror images.

The stacking suites train on the step reward (``-Step-v1`` envs) from scripted demos recorded
with action noise 0.1, whose slightly off-centre grasps and recoveries clean demos never show.
"""

from __future__ import annotations

from benchmarks.suites.record import Suite

DEMO_NOISE = 0.1
"""Action noise of the stacking demos."""

DEMO_COUNT = "stack3-demo-count"
"""The group of Stack3 suites that differ only in their demos (how many, mirror images or
not); ``benchmarks.demo_count`` plots their held-out success against the demo count."""

STACK2 = "FetchStack2-Step-v1"
STACK3 = "FetchStack3-Step-v1"
STACK4 = "FetchStack4-Step-v1"
STACK5 = "FetchStack5-Step-v1"
STACK6 = "FetchStack6-Step-v1"
BC_QFILTER = ("--bc_loss", "1", "--q_filter", "1")
BC_NO_QFILTER = ("--bc_loss", "1", "--q_filter", "0")
BC_ONLY = ("--set", "bc_only=1")
MIRROR = ("--demo_mirror", "1", "--set", "demo_mirror_planes=x,y,diagonal")


def demos(count: int) -> tuple[str, ...]:
    """Flags loading ``count`` demos."""
    return ("--num_demo", str(count))


def stacking(
    env: str,
    flags: tuple[str, ...],
    epochs: int,
    group: str,
    demo_episodes: int = 100,
    seeds: tuple[int, ...] = (0,),
) -> Suite:
    """A stacking suite on its own demos with noise 0.1."""
    return Suite(
        env, flags, epochs, group, seeds, demo_noise=DEMO_NOISE, demo_episodes=demo_episodes
    )


def stack3(
    flags: tuple[str, ...],
    epochs: int,
    demo_episodes: int = 100,
    seeds: tuple[int, ...] = (0,),
) -> Suite:
    """A Stack3 suite of the demo-count group."""
    return stacking(STACK3, flags, epochs, DEMO_COUNT, demo_episodes, seeds)


STACKING = ("--preset", "stacking")
RESETS_HALF = ("--demo_reset_prob", "0.5")
RL_SCALED = ("--set", "rl_scale=mean_abs_q")
"""The RL actor term divided by the batch's mean |Q|: stacking's values are far larger than
PickAndPlace's, so with the seed's fixed lambda1 the RL term's pull on the actor is too."""

STACK4_RECIPE = (*demos(300), *MIRROR, *BC_NO_QFILTER, *RL_SCALED, *RESETS_HALF, *STACKING)
"""Fetch Stack4's recipe: 300 demos and their mirror images, BC + RL without the Q-filter, the
RL term scaled by mean |Q|, demo resets 0.5. The Stack5, Stack6 and WAMStack4 suites use it too."""

SUITES: dict[str, Suite] = {
    "stack2": Suite(
        STACK2,
        (*demos(100), *BC_QFILTER, "--demo_reset_prob", "0.1", "--preset", "stacking-td3"),
        231,
        "stack2-critics",
        (0,),
        demo_noise=DEMO_NOISE,
    ),
    "stack2-one-critic": Suite(
        STACK2,
        (*demos(100), *BC_QFILTER, "--demo_reset_prob", "0.1", *STACKING),
        441,
        "stack2-critics",
        (0,),
        demo_noise=DEMO_NOISE,
    ),
    "stack3-her": Suite(STACK3, (*demos(0), *STACKING), 45, "stack3-her", (0,)),
    "stack3-bc-only-100": stack3((*demos(100), *BC_ONLY, *STACKING), 54),
    "stack3-bc-only-300": stack3((*demos(300), *BC_ONLY, *STACKING), 31, 300),
    "stack3-bc-only-1000": stack3((*demos(1000), *BC_ONLY, *STACKING), 50, 1000),
    "stack3-bc-only-mirror": stack3((*demos(100), *MIRROR, *BC_ONLY, *STACKING), 70, seeds=(0, 1)),
    "stack3-bc-qfilter-100": stack3((*demos(100), *BC_QFILTER, *RESETS_HALF, *STACKING), 126),
    "stack3-bc-qfilter-1000": stack3(
        (*demos(1000), *BC_QFILTER, *RESETS_HALF, *STACKING), 174, 1000
    ),
    "stack3-bc-qfilter-mirror": stack3(
        (*demos(100), *MIRROR, *BC_QFILTER, *RESETS_HALF, *STACKING), 132
    ),
    "stack3-bc-noqfilter-300": stack3(
        (*demos(300), *BC_NO_QFILTER, *RESETS_HALF, *STACKING), 100, 300
    ),
    "stack3-bc-noqfilter-1000": stack3(
        (*demos(1000), *BC_NO_QFILTER, *RESETS_HALF, *STACKING), 101, 1000
    ),
    "stack3-bc-noqfilter-mirror": stack3(
        (*demos(100), *MIRROR, *BC_NO_QFILTER, *RESETS_HALF, *STACKING), 81
    ),
    # Stack4 starts from the Stack3 recipe: BC alone on the demos and their mirror images.
    "stack4-bc-only-mirror": stacking(
        STACK4, (*demos(100), *MIRROR, *BC_ONLY, *STACKING), 60, "stack4"
    ),
    # Stack5 and Stack6, to report: the Stack4 starting point, BC alone with mirror images.
    "stack5-bc-only-mirror": stacking(
        STACK5, (*demos(100), *MIRROR, *BC_ONLY, *STACKING), 40, "stack5"
    ),
    "stack6-bc-only-mirror": stacking(
        STACK6, (*demos(100), *MIRROR, *BC_ONLY, *STACKING), 40, "stack6"
    ),
    # BC without the Q-filter (Stack3's RL recipe), with the RL term scaled by mean |Q|.
    "stack4-bc-rl-mirror-scaled": stacking(
        STACK4,
        (*demos(100), *MIRROR, *BC_NO_QFILTER, *RL_SCALED, *RESETS_HALF, *STACKING),
        100,
        "stack4",
    ),
    # The same with 300 demos: Stack3 was short of demos rather than of method.
    "stack4-bc-rl-mirror-scaled-300": stacking(
        STACK4, STACK4_RECIPE, 60, "stack4", 300, seeds=(0, 1, 2)
    ),
    # Its control: BC alone on the same 300 demos and their mirror images.
    "stack4-bc-only-mirror-300": stacking(
        STACK4, (*demos(300), *MIRROR, *BC_ONLY, *STACKING), 60, "stack4", 300, seeds=(0, 1)
    ),
    # Stack5 with the Stack4 recipe.
    "stack5-bc-rl-mirror-scaled-300": stacking(STACK5, STACK4_RECIPE, 60, "stack5", 300),
    "stack6-bc-rl-mirror-scaled-300": stacking(STACK6, STACK4_RECIPE, 60, "stack6", 300),
}
