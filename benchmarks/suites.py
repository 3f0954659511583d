"""The named training benchmarks: environment, flags, epoch budget and seeds of each.

A table, apart from the runner (``benchmarks/run.py``), so that the comments saying why each
suite exists sit next to its settings, and the evaluator can read the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

CACHED_DEMO_EPISODES = 100
"""Clean demos train.py generates and caches itself when no --demo_file is given."""


@dataclass(frozen=True)
class TrainingSuite:
    """A training benchmark: one configuration, several seeds, a fixed epoch budget."""

    label: str
    env: str
    flags: tuple[str, ...]
    epochs: int
    seeds: tuple[int, ...] = (0, 1, 2)
    demo_noise: float = 0.0  # > 0: imperfect scripted demos, generated with this action noise
    demo_miss_prob: float = 0.0  # > 0: stacking demos with deliberately missed grasps (recovered)
    demo_episodes: int = CACHED_DEMO_EPISODES  # scripted episodes generated (--num_demo loads)

    @property
    def own_demos(self) -> bool:
        """The suite needs demos of its own: imperfect ones, or not train.py's cached 100."""
        return (
            self.demo_noise > 0
            or self.demo_miss_prob > 0
            or self.demo_episodes != CACHED_DEMO_EPISODES
        )


DEMOS = ("--num_demo", "100")
SUITES: dict[str, TrainingSuite] = {
    "pickplace-demos": TrainingSuite(
        "demos + BC + Q-filter",
        "FetchPickAndPlace-v4",
        (*DEMOS, "--bc_loss", "1", "--q_filter", "1"),
        30,
    ),
    "pickplace-demos-resets": TrainingSuite(
        "demos + BC + Q-filter + demo resets (0.1)",
        "FetchPickAndPlace-v4",
        (*DEMOS, "--bc_loss", "1", "--q_filter", "1", "--demo_reset_prob", "0.1"),
        30,
    ),
    "pickplace-original": TrainingSuite(
        "original hyper-parameters (--preset original)",
        "FetchPickAndPlace-v4",
        (*DEMOS, "--bc_loss", "1", "--q_filter", "1", "--preset", "original"),
        30,
        seeds=(0,),
    ),
    # Imperfect demonstrations (action noise 0.5: the scripted controller then succeeds in about
    # 57% of episodes), where the Q-filter is meant to matter.
    "pickplace-noisy-qfilter": TrainingSuite(
        "noisy demos + BC + Q-filter",
        "FetchPickAndPlace-v4",
        (*DEMOS, "--bc_loss", "1", "--q_filter", "1"),
        20,
        seeds=(0,),
        demo_noise=0.5,
    ),
    "pickplace-noisy-bc-loss": TrainingSuite(
        "noisy demos + BC, no Q-filter",
        "FetchPickAndPlace-v4",
        (*DEMOS, "--bc_loss", "1"),
        20,
        seeds=(0,),
        demo_noise=0.5,
    ),
    "pickplace-noisy-bc-only": TrainingSuite(
        "noisy demos, BC only",
        "FetchPickAndPlace-v4",
        (*DEMOS, "--set", "bc_only=1"),
        20,
        seeds=(0,),
        demo_noise=0.5,
    ),
    "reach-her": TrainingSuite("HER only", "FetchReach-v4", ("--num_demo", "0"), 10),
    "pickplace-her": TrainingSuite("HER only", "FetchPickAndPlace-v4", ("--num_demo", "0"), 60),
    "pickplace-bc": TrainingSuite(
        "BC only", "FetchPickAndPlace-v4", (*DEMOS, "--set", "bc_only=1"), 30
    ),
}
# Block stacking (issue #7): one seed each, for the 2-core budget. Epoch = 20 episodes of 50 steps
# per block. HER only and BC only are the paper's baselines.
METHOD_LOSSES = ("--bc_loss", "1", "--q_filter", "1")
PAPER_METHOD = (*DEMOS, *METHOD_LOSSES)
RESETS = ("--demo_reset_prob", "0.1")
SUITES.update(
    {
        "stack2-demos": TrainingSuite(
            "demos + BC + Q-filter", "FetchStack2-v0", PAPER_METHOD, 300, seeds=(0,)
        ),
        "stack2-demos-resets": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1)",
            "FetchStack2-v0",
            (*PAPER_METHOD, *RESETS),
            300,
            seeds=(0,),
        ),
        # Exploration check: with random_eps 0.1 almost every 100-step training episode gets a
        # random action (half of them open the gripper) while a block is carried.
        "stack2-demos-resets-eps0.02": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), random_eps 0.02",
            "FetchStack2-v0",
            (*PAPER_METHOD, *RESETS, "--set", "random_eps=0.02"),
            300,
            seeds=(0,),
        ),
        # Sample efficiency: the original project's preset (twice the updates per env step,
        # polyak 0.8), and the same update FLOPs as the default spent on twice as many
        # half-size batches.
        "stack2-original-resets": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original",
            "FetchStack2-v0",
            (*PAPER_METHOD, *RESETS, "--preset", "original"),
            300,
            seeds=(0,),
        ),
        # Value propagation: the targets move once per cycle, so polyak sets how fast a value
        # learnt near the tower reaches the start of a 100-step episode.
        "stack2-original-resets-polyak0.6": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original, polyak 0.6",
            "FetchStack2-v0",
            (*PAPER_METHOD, *RESETS, "--preset", "original", "--set", "polyak=0.6"),
            300,
            seeds=(0,),
        ),
        # The paper's step reward (minus the blocks not yet placed), which credits each block.
        "stack2-step-original-resets": TrainingSuite(
            "step reward, demos + BC + Q-filter + demo resets (0.1), --preset original",
            "FetchStack2-Step-v0",
            (*PAPER_METHOD, *RESETS, "--preset", "original"),
            300,
            seeds=(0,),
        ),
        # FetchStack2-v1: the tower spot starts clear of both blocks.
        "stack2v1-original-resets-polyak0.6": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original, polyak 0.6",
            "FetchStack2-v1",
            (*PAPER_METHOD, *RESETS, "--preset", "original", "--set", "polyak=0.6"),
            300,
            seeds=(0,),
        ),
        # Exploration: with random_eps 0.2 a uniform random action (a 5 cm jump, half of them
        # opening the gripper) comes every 5 steps, so noisy training episodes almost never
        # finish a tower and the critic never sees the actor's own successes. Gaussian noise
        # only (noise_eps 0.1) keeps them close to the deterministic policy.
        "stack2v1-original-resets-polyak0.6-eps0": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original, polyak 0.6, "
            "random_eps 0",
            "FetchStack2-v1",
            (*PAPER_METHOD, *RESETS, "--preset", "original")
            + ("--set", "polyak=0.6", "--set", "random_eps=0"),
            300,
            seeds=(0,),
        ),
        "stack2-resets-b512": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), 80 updates of 512 per cycle",
            "FetchStack2-v0",
            (*PAPER_METHOD, *RESETS, "--set", "batch_size=512", "--set", "demo_batch_size=64")
            + ("--set", "n_batches=80"),
            300,
            seeds=(0,),
        ),
        "stack2-her": TrainingSuite(
            "HER only", "FetchStack2-v0", ("--num_demo", "0"), 60, seeds=(0,)
        ),
        "stack2-bc": TrainingSuite(
            "BC only", "FetchStack2-v0", (*DEMOS, "--set", "bc_only=1"), 40, seeds=(0,)
        ),
        "stack3-demos-resets": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1)",
            "FetchStack3-v0",
            (*PAPER_METHOD, *RESETS),
            400,
            seeds=(0,),
        ),
        "stack3-original-resets": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original",
            "FetchStack3-v0",
            (*PAPER_METHOD, *RESETS, "--preset", "original"),
            400,
            seeds=(0,),
        ),
        "stack3-demos": TrainingSuite(
            "demos + BC + Q-filter", "FetchStack3-v0", PAPER_METHOD, 400, seeds=(0,)
        ),
        "stack3-her": TrainingSuite(
            "HER only", "FetchStack3-v0", ("--num_demo", "0"), 40, seeds=(0,)
        ),
        "stack3-bc": TrainingSuite(
            "BC only", "FetchStack3-v0", (*DEMOS, "--set", "bc_only=1"), 40, seeds=(0,)
        ),
    }
)
# The v1 stacking envs with the exploration that lets noisy training episodes finish towers
# (Gaussian noise only) and faster-moving targets (polyak 0.6 per cycle of 40 updates).
STACK_SETTINGS = (*RESETS, "--preset", "original", "--set", "polyak=0.6", "--set", "random_eps=0")
STACK_TUNED = (*PAPER_METHOD, *STACK_SETTINGS)
TD3_CRITIC = ("--set", "twin_q=1", "--set", "target_noise=0.2")
# Stack3 with BC on every demo row (no Q-filter), demo resets 0.5, the discount of one stacking
# stage and TD3's critic (the suites below say why).
STACK3_NO_QFILTER = (
    *DEMOS,
    "--bc_loss",
    "1",
    "--q_filter",
    "0",
    *STACK_SETTINGS,
    "--demo_reset_prob",
    "0.5",
    "--set",
    "gamma=0.98",
    *TD3_CRITIC,
)
SUITES.update(
    {
        "stack3v1-tuned": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original, polyak 0.6, "
            "random_eps 0",
            "FetchStack3-v1",
            STACK_TUNED,
            400,
            seeds=(0,),
        ),
        # More starts from demo states (half the training episodes), so the later stages (the
        # second block, leaving a finished tower alone) get more practice.
        "stack2v1-tuned-resets0.5": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.5), --preset original, polyak 0.6, "
            "random_eps 0",
            "FetchStack2-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5"),
            300,
            seeds=(0,),
        ),
        # Demos recorded with action noise 0.1: they include slightly off-centre grasps and the
        # controller's recovery from them (it servoes the carried *block* onto the tower), which
        # clean demos never show; a policy that grasps off-centre otherwise topples the tower.
        "stack2v1-tuned-noisy0.1": TrainingSuite(
            "demos (noise 0.1) + BC + Q-filter + demo resets (0.1), --preset original, "
            "polyak 0.6, random_eps 0",
            "FetchStack2-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        "stack2v1-tuned-noisy0.1-resets0.5": TrainingSuite(
            "demos (noise 0.1) + BC + Q-filter + demo resets (0.5), --preset original, "
            "polyak 0.6, random_eps 0",
            "FetchStack2-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5"),
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        "stack3v1-tuned-resets0.5": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.5), --preset original, polyak 0.6, "
            "random_eps 0",
            "FetchStack3-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5"),
            400,
            seeds=(0,),
        ),
        # The paper's step reward (minus the number of blocks not in place) on the same
        # settings: the critic is told when the bottom block is placed, not only the tower.
        "stack2v1-step-tuned-noisy0.1": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.1), "
            "--preset original, polyak 0.6, random_eps 0",
            "FetchStack2-Step-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # Training rewards count a block as placed within 3 cm (tests still use 5 cm): failed
        # test episodes often end with a tower 4-6 cm from its target, an imprecision that the
        # 5 cm sparse reward does not penalise until it crosses the line.
        "stack2v1-tuned-noisy0.1-threshold0.03": TrainingSuite(
            "demos (noise 0.1) + BC + Q-filter + demo resets (0.1), --preset original, "
            "polyak 0.6, random_eps 0, training reward threshold 3 cm",
            "FetchStack2-v1",
            (*STACK_TUNED, "--set", "reward_threshold=0.03"),
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # Stack3 with both helps measured on Stack2-v1: noisy demos and half the episodes
        # starting from demo states (the third block gets practice before the first two work).
        "stack3v1-tuned-noisy0.1-resets0.5": TrainingSuite(
            "demos (noise 0.1) + BC + Q-filter + demo resets (0.5), --preset original, "
            "polyak 0.6, random_eps 0",
            "FetchStack3-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5"),
            400,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # Both Stack2 helps that each lifted held-out success: the step reward (the critic hears
        # when the bottom block is placed) and the 3 cm training threshold (towers built near,
        # not on, the target are not rewarded).
        "stack2v1-step-tuned-noisy0.1-threshold0.03": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.1), "
            "--preset original, polyak 0.6, random_eps 0, training reward threshold 3 cm",
            "FetchStack2-Step-v1",
            (*STACK_TUNED, "--set", "reward_threshold=0.03"),
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # The WAM tower with the noisy demos that lifted Fetch Stack2-v1, on the sparse reward
        # that issue #8 asks for (the step-reward suite below is the comparison).
        "wam-stack2v1-tuned-noisy0.1": TrainingSuite(
            "demos (noise 0.1) + BC + Q-filter + demo resets (0.1), --preset original, "
            "polyak 0.6, random_eps 0",
            "WAMStack2-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # The paper's step reward, which gave the best Fetch Stack2 result, on the WAM tower.
        "wam-stack2v1-step-tuned-noisy0.1": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.1), "
            "--preset original, polyak 0.6, random_eps 0",
            "WAMStack2-Step-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # The four-block WAM tower (issue #8: "as far as time allows"), with everything that
        # helped the two-block one and half the episodes starting from demo states.
        "wam-stack4v1-step-tuned-noisy0.1-resets0.5": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.5), "
            "--preset original, polyak 0.6, random_eps 0",
            "WAMStack4-Step-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5"),
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # Stack3 with the step reward on top of noisy demos and resets 0.5: with three blocks
        # the sparse reward says nothing until the whole tower stands.
        "stack3v1-step-tuned-noisy0.1-resets0.5": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.5), "
            "--preset original, polyak 0.6, random_eps 0",
            "FetchStack3-Step-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5"),
            400,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # Noisier demos (action noise 0.2: the controller succeeds in 90% of Stack2 and 86% of
        # WAMStack2 episodes): its re-planning after a missed grasp or a dropped block shows up in
        # about a third of the episodes instead of a fifth, and a missed second grasp that is never
        # retried is the trained policies' main failure.
        "stack2v1-step-tuned-noisy0.2": TrainingSuite(
            "step reward, demos (noise 0.2) + BC + Q-filter + demo resets (0.1), "
            "--preset original, polyak 0.6, random_eps 0",
            "FetchStack2-Step-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
            demo_noise=0.2,
        ),
        "wam-stack2v1-tuned-noisy0.2": TrainingSuite(
            "demos (noise 0.2) + BC + Q-filter + demo resets (0.1), --preset original, "
            "polyak 0.6, random_eps 0",
            "WAMStack2-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
            demo_noise=0.2,
        ),
        # Demos that show the recovery from a missed grasp: each pick first closes above its
        # block with probability 0.2 and grasps again (action noise 0.1 as before). A missed
        # second grasp, after which the policy never tries again, is the trained policies'
        # largest failure; 100 plain demos hold almost no retry to learn it from.
        "stack2v1-step-tuned-noisy0.1-miss0.2": TrainingSuite(
            "step reward, demos (noise 0.1, missed grasps 0.2) + BC + Q-filter + demo resets "
            "(0.1), --preset original, polyak 0.6, random_eps 0",
            "FetchStack2-Step-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
            demo_noise=0.1,
            demo_miss_prob=0.2,
        ),
        "wam-stack2v1-tuned-noisy0.1-miss0.2": TrainingSuite(
            "demos (noise 0.1, missed grasps 0.2) + BC + Q-filter + demo resets (0.1), "
            "--preset original, polyak 0.6, random_eps 0",
            "WAMStack2-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
            demo_noise=0.1,
            demo_miss_prob=0.2,
        ),
        # Ten times the actor's RL weight (lambda1 0.01 instead of the seed's 0.001). In the
        # trained policies' failed episodes the gripper hovers on near-zero actions while the
        # critic's slope there is large (dQ/da about 10-25) and random actions score far higher:
        # the actor does not follow its critic off the demos. Per row, the seed's weights make
        # the summed BC term about 100 times the RL term's mean.
        "stack2v1-step-tuned-noisy0.1-lambda1-0.01": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.1), "
            "--preset original, polyak 0.6, random_eps 0, lambda1 0.01",
            "FetchStack2-Step-v1",
            (*STACK_TUNED, "--set", "lambda1=0.01"),
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        "wam-stack2v1-tuned-noisy0.1-lambda1-0.01": TrainingSuite(
            "demos (noise 0.1) + BC + Q-filter + demo resets (0.1), --preset original, "
            "polyak 0.6, random_eps 0, lambda1 0.01",
            "WAMStack2-v1",
            (*STACK_TUNED, "--set", "lambda1=0.01"),
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # TD3's critic (Fujimoto et al. 2018) with its default smoothing: twin critics whose
        # smaller value is the target, and target actions jittered by noise 0.2 clipped at 0.5.
        # benchmarks/actor_gap.py found the single critic rating actions near the actor's far
        # above the actor's own in the failed episodes; following it loses nearly every episode.
        "stack2v1-step-tuned-noisy0.1-td3": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.1), "
            "--preset original, polyak 0.6, random_eps 0, twin critics + target noise 0.2",
            "FetchStack2-Step-v1",
            (*STACK_TUNED, *TD3_CRITIC),
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        "wam-stack2v1-tuned-noisy0.1-td3": TrainingSuite(
            "demos (noise 0.1) + BC + Q-filter + demo resets (0.1), --preset original, "
            "polyak 0.6, random_eps 0, twin critics + target noise 0.2",
            "WAMStack2-v1",
            (*STACK_TUNED, *TD3_CRITIC),
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # Both Fetch Stack2 helps at once on the WAM tower: TD3 lifted the step-reward Fetch
        # tower from 0.90 to 0.96 held-out, though neither the step reward nor TD3 alone lifted
        # the sparse WAM one.
        "wam-stack2v1-step-tuned-noisy0.1-td3": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.1), "
            "--preset original, polyak 0.6, random_eps 0, twin critics + target noise 0.2",
            "WAMStack2-Step-v1",
            (*STACK_TUNED, *TD3_CRITIC),
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        "stack3v1-step-tuned-noisy0.1-resets0.5-td3": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.5), "
            "--preset original, polyak 0.6, random_eps 0, twin critics + target noise 0.2",
            "FetchStack3-Step-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5", *TD3_CRITIC),
            400,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # The discount of one stacking stage (about 50 steps) instead of the whole episode's
        # (1 - 1/150 = 0.993 for Stack3): failed Stack3 test episodes mostly stall before or
        # after the first block (benchmarks/stack_failures.py), and values over 150 steps are
        # three times larger and noisier, which the step reward's per-block signal does not need.
        "stack3v1-step-tuned-noisy0.1-resets0.5-gamma0.98": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.5), "
            "--preset original, polyak 0.6, random_eps 0, gamma 0.98",
            "FetchStack3-Step-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5", "--set", "gamma=0.98"),
            400,
            seeds=(0,),
            demo_noise=0.1,
        ),
        "stack3v1-step-tuned-noisy0.1-resets0.5-gamma0.98-td3": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.5), "
            "--preset original, polyak 0.6, random_eps 0, gamma 0.98, twin critics + target "
            "noise 0.2",
            "FetchStack3-Step-v1",
            (*STACK_TUNED, "--demo_reset_prob", "0.5", "--set", "gamma=0.98", *TD3_CRITIC),
            400,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # Behaviour cloning on every demo row (no Q-filter): the single critic ranks the
        # actor's action above the demonstrator's on about 70% of demo states from the first
        # epochs on (train/q_filter_frac 0.29), while the actor fails almost every test episode.
        "stack3v1-step-tuned-noisy0.1-resets0.5-gamma0.98-td3-noqfilter": TrainingSuite(
            "step reward, demos (noise 0.1) + BC without Q-filter + demo resets (0.5), "
            "--preset original, polyak 0.6, random_eps 0, gamma 0.98, twin critics + target "
            "noise 0.2",
            "FetchStack3-Step-v1",
            STACK3_NO_QFILTER,
            400,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # The same, with demo rows keeping their own goals (demo_replay_k 0): with HER's 4
        # relabelled goals per real one, only a fifth of the demo rows show the critic and the
        # BC loss the tower the demonstrator built.
        "stack3v1-step-tuned-noisy0.1-resets0.5-gamma0.98-td3-noqfilter-demok0": TrainingSuite(
            "step reward, demos (noise 0.1, own goals) + BC without Q-filter + demo resets "
            "(0.5), --preset original, polyak 0.6, random_eps 0, gamma 0.98, twin critics + "
            "target noise 0.2",
            "FetchStack3-Step-v1",
            (*STACK3_NO_QFILTER, "--set", "demo_replay_k=0"),
            400,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # The paper's two baselines on the same Stack3 task and demos: DDPG + HER without demos,
        # and the actor trained by behaviour cloning alone.
        "stack3v1-step-her": TrainingSuite(
            "HER only (no demos), --preset stacking",
            "FetchStack3-Step-v1",
            ("--num_demo", "0", "--preset", "stacking"),
            400,
            seeds=(0,),
        ),
        "stack3v1-step-bc": TrainingSuite(
            "BC only, demos (noise 0.1), --preset stacking",
            "FetchStack3-Step-v1",
            (*DEMOS, "--set", "bc_only=1", "--preset", "stacking"),
            400,
            seeds=(0,),
            demo_noise=0.1,
        ),
        # Half the Gaussian exploration noise (noise_eps 0.05): with 0.1 the training episodes
        # succeed about half as often as the deterministic test episodes, so little of the
        # agent's own data comes from the states its test episodes fail in.
        "stack2v1-step-tuned-noisy0.1-noise0.05": TrainingSuite(
            "step reward, demos (noise 0.1) + BC + Q-filter + demo resets (0.1), "
            "--preset original, polyak 0.6, random_eps 0, noise_eps 0.05",
            "FetchStack2-Step-v1",
            (*STACK_TUNED, "--set", "noise_eps=0.05"),
            300,
            seeds=(0,),
            demo_noise=0.1,
        ),
        "wam-stack2v1-tuned": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original, polyak 0.6, "
            "random_eps 0",
            "WAMStack2-v1",
            STACK_TUNED,
            300,
            seeds=(0,),
        ),
    }
)
# The WAM arm (issue #8): the paper's method with 100 scripted demos, one seed each.
SUITES.update(
    {
        "wam-reach": TrainingSuite(
            "demos + BC + Q-filter", "WAMReach-v0", PAPER_METHOD, 10, seeds=(0,)
        ),
        "wam-pickplace": TrainingSuite(
            "demos + BC + Q-filter", "WAMPickAndPlace-v0", PAPER_METHOD, 30, seeds=(0,)
        ),
        "wam-stack2": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1)",
            "WAMStack2-v0",
            (*PAPER_METHOD, *RESETS),
            300,
            seeds=(0,),
        ),
        "wam-stack2-original": TrainingSuite(
            "demos + BC + Q-filter + demo resets (0.1), --preset original",
            "WAMStack2-v0",
            (*PAPER_METHOD, *RESETS, "--preset", "original"),
            300,
            seeds=(0,),
        ),
    }
)


def stack3_demo_suites(
    suffix: str,
    demos: str,
    demo_flags: tuple[str, ...],
    demo_episodes: int = CACHED_DEMO_EPISODES,
) -> dict[str, TrainingSuite]:
    """Stack3 with scripted demos (action noise 0.1, ``demo_episodes`` of them) loaded by
    ``demo_flags``: the method (BC + Q-filter), the method without the Q-filter (BC on every
    demo row) and BC alone, one seed each, named ``...-<suffix>`` and described as using
    ``demos``. The demo rows per batch stay the paper's 128 of 1,024."""
    common = {"seeds": (0,), "demo_noise": 0.1, "demo_episodes": demo_episodes}
    return {
        f"stack3v1-step-tuned-noisy0.1-resets0.5-{suffix}": TrainingSuite(
            f"step reward, {demos} + BC + Q-filter + demo resets (0.5), "
            "--preset original, polyak 0.6, random_eps 0",
            "FetchStack3-Step-v1",
            (*demo_flags, *METHOD_LOSSES, *STACK_SETTINGS, "--demo_reset_prob", "0.5"),
            400,
            **common,
        ),
        # BC on every demo row: with 1,000 demos the Q-filter kept BC on about 37% of them
        # while BC alone already succeeded on 0.9.
        f"stack3v1-step-tuned-noisy0.1-resets0.5-noqfilter-{suffix}": TrainingSuite(
            f"step reward, {demos} + BC (no Q-filter) + demo resets (0.5), "
            "--preset original, polyak 0.6, random_eps 0",
            "FetchStack3-Step-v1",
            (*demo_flags, "--bc_loss", "1", "--q_filter", "0", *STACK_SETTINGS)
            + ("--demo_reset_prob", "0.5"),
            400,
            **common,
        ),
        f"stack3v1-step-bc-{suffix}": TrainingSuite(
            f"BC only, {demos}, --preset stacking",
            "FetchStack3-Step-v1",
            (*demo_flags, "--set", "bc_only=1", "--preset", "stacking"),
            400,
            **common,
        ),
    }


def stack3_demo_count_suites(episodes: int) -> dict[str, TrainingSuite]:
    """The method (with and without the Q-filter) and BC alone on Stack3 with ``episodes``
    scripted demos instead of 100.

    Plain behaviour cloning with 100 demos succeeds on about 0.17 of Stack3 episodes, with 300
    on about 0.7 and with 1,000 on about 0.9 (an offline check), so these ask how many demos
    each needs to reach the 0.9 target, and whether the method then does better than BC.
    """
    return stack3_demo_suites(
        f"{episodes}demos",
        f"{episodes:,} demos (noise 0.1)",
        ("--num_demo", str(episodes)),
        episodes,
    )


SUITES.update(stack3_demo_count_suites(300))
SUITES.update(stack3_demo_count_suites(1000))


def stack3_mirror_suites(planes: str) -> dict[str, TrainingSuite]:
    """Stack3 with the issue's 100 demos and their mirror images (``--demo_mirror 1``) in the
    given planes: BC alone, and the method with and without the Q-filter. ``"x,y,diagonal"``
    (all of the env's, 800 episodes in the demo buffer) gives the plain suite names,
    ``"x,y"`` (400) the ones ending in ``-mirror-xy``.

    Plain BC from the 100 demos succeeds on about 0.17 of episodes and from 1,000 on about 0.9;
    an offline check with their images reached 0.8 with the x and y planes and 0.88 with all
    three, so the images stand in for most of the missing demos.
    """
    suffix = "mirror" if planes == "x,y,diagonal" else f"mirror-{planes.replace(',', '')}"
    return stack3_demo_suites(
        suffix,
        f"100 demos (noise 0.1) + mirror images ({planes})",
        (*DEMOS, "--demo_mirror", "1", "--set", f"demo_mirror_planes={planes}"),
    )


SUITES.update(stack3_mirror_suites("x,y,diagonal"))
SUITES.update(stack3_mirror_suites("x,y"))
