"""Run under mpirun by tests/test_mpi.py: trains briefly, then prints this rank's checksums."""

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from herdemos.config import Config, with_overrides
from herdemos.parallel import connect
from herdemos.trainer import Trainer

from point_env import register


def main() -> None:
    ranks = connect()
    logdir = Path(tempfile.mkdtemp()) if len(sys.argv) < 2 else Path(sys.argv[1])
    overrides = {"env": register(), "n_cycles": 3, "n_batches": 4, "batch_size": 64, "hidden": 32}
    config = with_overrides(Config(), {**overrides, "num_cpu": ranks.size})
    trainer = Trainer.from_config(config, logdir, None, log=lambda line: None, ranks=ranks)
    for _ in range(3):
        trainer.run_cycle()
    ln = trainer.learner
    report = {
        "rank": ranks.rank,
        "size": ranks.size,
        "updates": int(ln.step.numpy()),
        "batch_size": trainer.batch_size,
        "params": float(sum(np.abs(w).sum() for w in ln.actor_weights() + ln.critic_weights())),
        "targets": float(sum(np.abs(v.numpy()).sum() for v in ln.target.variables)),
        "o_mean": ln.o_stats.mean.tolist(),
        "o_std": ln.o_stats.std.tolist(),
        "g_mean": ln.g_stats.mean.tolist(),
        "buffer_first_o": trainer.buffer.storage["o"][0, 0].tolist(),
    }
    print("REPORT " + json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
