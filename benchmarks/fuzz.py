"""Fuzzing herdemos' file loaders at scale: every input is refused in one line or loads, with
no traceback, no hang and bounded memory. Not part of the test suite (it takes minutes).

    nice -n 10 python -m benchmarks.fuzz --n 10000

Each file kind runs in its own worker process, one input at a time (drawn from a seed by
:mod:`benchmarks.fuzz_inputs`). An input that takes longer than ``--timeout`` seconds is a hang:
the worker is killed and restarted. The workers' peak resident memory is read from
``getrusage``. The checkpoint worker restores checkpoint state without TensorFlow or MuJoCo
(:mod:`benchmarks.fuzz_checkpoint`). Results go to ``benchmarks/results/fuzz/fuzz.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.fuzz_checkpoint import save_example, standin_parts, state_examples
from benchmarks.fuzz_inputs import GENERATORS, KINDS, deflated_zeros, npz_bytes
from herdemos.util import HerdemosError, atomic_write_json

ROOT = Path(__file__).resolve().parents[1]
ENV_ID = "FetchReach-v4"
OUT = ROOT / "benchmarks" / "results" / "fuzz" / "fuzz.json"
SMALL = {"n_cycles": 1, "n_batches": 1, "batch_size": 16, "hidden": 8, "n_test_rollouts": 1,
         "rollout_batch_size": 1, "buffer_size": 5000}  # fmt: skip


def valid_examples(workdir: Path, env_id: str, kind: str, bomb_mebibytes: int = 2048) -> dict:
    """A valid file of each kind in ``workdir``, and what the loaders need: the env's sizes and,
    for ``kind`` checkpoint only (it imports TensorFlow), the trainer that restores them."""
    from herdemos.config import Config, with_overrides
    from herdemos.env_info import EnvInfo
    from herdemos.environment import make_env
    from herdemos.policy import Policy

    config = with_overrides(Config(), {"env": env_id, **SMALL})
    env = make_env(env_id)
    info = EnvInfo.of(env, env_id)
    env.close()
    rng = np.random.default_rng(0)
    n, t = 3, info.horizon
    demo = {
        "o": rng.normal(size=(n, t + 1, info.dim_o)).astype(np.float32),
        "ag": rng.normal(size=(n, t + 1, info.dim_g)).astype(np.float32),
        "g": rng.normal(size=(n, t, info.dim_g)).astype(np.float32),
        "u": rng.uniform(-1, 1, (n, t, info.dim_u)).astype(np.float32),
        "info_is_success": np.zeros((n, t, 1), np.float32),
        "sim_state": rng.normal(size=(n, t + 1, 5)),
        "metadata": np.array(json.dumps({"env_id": env_id, "format": "herdemos-demos-v1"})),
    }

    def mlp(n_in: int, n_out: int) -> list[np.ndarray]:
        sizes = [n_in, 8, 8, n_out]
        layers = zip(sizes, sizes[1:], strict=False)
        return [
            w for a, b in layers for w in (rng.normal(size=(a, b)).astype("f4"), np.zeros(b, "f4"))
        ]

    n_in, zeros_o, ones_g = info.dim_o + info.dim_g, np.zeros(info.dim_o), np.ones(info.dim_g)
    metadata = {"env_id": env_id, "epoch": 1, "config": config.to_dict()}
    actor, critic = mlp(n_in, info.dim_u), mlp(n_in + info.dim_u, 1)
    stats = (zeros_o, zeros_o + 1, ones_g - 1, ones_g)
    policy = Policy(actor, critic, *stats, 200.0, 5.0, info.max_u, metadata).to_dict()
    progress = "epoch,total_env_steps,test/success_rate,train/critic_loss\n" + "".join(
        f"{e},{e * 50},{e / 10},{0.5 / e}\n" for e in range(1, 5)
    )
    ctx: dict[str, Any] = {
        "info": info,
        "demo": {
            "arrays": demo,
            "bytes": npz_bytes(demo),
            "bomb": (deflated_zeros(bomb_mebibytes), bomb_mebibytes),
        },  # fmt: skip
        "policy": {"dict": policy, "bytes": pickle.dumps(policy, protocol=4)},
        "params": {"dict": config.to_dict(), "bytes": config.to_json().encode()},
        "progress": {"bytes": progress.encode()},
    }
    if kind == "checkpoint":
        from herdemos.checkpoint import read_checkpoint_state
        from herdemos.trainer import Trainer

        trainer = Trainer.from_config(config, workdir / "run", demos=None, log=lambda line: None)
        trainer.run_cycle()
        folder = trainer.save_checkpoint()
        arrays, meta = read_checkpoint_state(folder)
        ctx.update(trainer=trainer, folder=folder)
        ctx["checkpoint"] = {
            "arrays": {**arrays, "meta": np.array(json.dumps(meta))},
            "meta": meta,
            "bytes": (folder / "state-rank0.npz").read_bytes(),
            "files": {p.name: p.read_bytes() for p in folder.iterdir()},
        }
    return ctx


def load(kind: str, data: Any, ctx: dict[str, Any], scratch: Path) -> None:
    """Hands one input to the loader of its kind, as a command would; an accepted policy must
    act with finite numbers, and an accepted checkpoint must train a cycle."""
    from herdemos import load_policy
    from herdemos.checkpoint import restore_run_checkpoint
    from herdemos.demos import load_demos
    from herdemos.experiment.flags import TrainFlags
    from herdemos.experiment.resolve import resume_config
    from herdemos.logger import read_run_progress

    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    if kind == "demo":
        (scratch / "demos.npz").write_bytes(data)
        load_demos(scratch / "demos.npz", ctx["info"], num_demo=2)
    elif kind == "policy":
        (scratch / "policy.pkl").write_bytes(data)
        policy = load_policy(scratch / "policy.pkl")
        rng = np.random.default_rng(0)
        o = rng.normal(size=(4, policy.o_mean.size)) * [[1], [1e3], [1e30], [0]]
        g = rng.normal(size=(4, policy.g_mean.size))
        u = policy.explore(o, g, 0.1, 0.5, rng)
        if not (np.isfinite(u).all() and np.isfinite(policy.q_value(o, g, u)).all()):
            raise AssertionError("an accepted policy acts with NaN or Inf")
    elif kind == "params":
        (scratch / "params.json").write_bytes(data)
        resume_config(scratch, TrainFlags.from_options({}), ())
    elif kind == "progress":
        (scratch / "progress.csv").write_bytes(data)
        read_run_progress(scratch)
    else:
        copy = scratch / ctx["folder"].name
        shutil.copytree(ctx["folder"], copy)
        for name, content in data.items():
            (copy / name).write_bytes(content)
        if "trainer" not in ctx:  # the benchmark's worker: state only (benchmarks.fuzz_checkpoint)
            restore_run_checkpoint(copy, standin_parts(ctx["parts"]), 0)
            return
        ctx["trainer"].restore_checkpoint(copy)
        ctx["trainer"].run_cycle()


def outcome(kind: str, data: Any, ctx: dict[str, Any], scratch: Path) -> str:
    """``refused`` (a one-line HerdemosError) or ``accepted``; anything else raises."""
    try:
        load(kind, data, ctx, scratch)
    except HerdemosError as e:
        if not str(e) or "\n" in str(e):
            raise AssertionError(f"not one line: {str(e)!r}") from None
        return "refused"
    return "accepted"


def draw(kind: str, ctx: dict[str, Any], seed: int, index: int) -> Any:
    """Input ``index`` of ``kind``: the same input for the same seed, on any machine."""
    rng = np.random.default_rng([seed, KINDS.index(kind), index])
    return GENERATORS[kind](ctx[kind], rng)


def worker(kind: str, seed: int) -> None:
    """Reads input indices on stdin, answers one JSON line each on stdout."""
    with tempfile.TemporaryDirectory(prefix="herdemos-fuzz-") as tmp:
        if kind == "checkpoint":
            ctx = state_examples(Path(tmp), ENV_ID)
        else:
            ctx = valid_examples(Path(tmp), ENV_ID, kind)
        reply = sys.stdout

        def rss_mb() -> float:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        print(json.dumps({"ready": True, "rss_mb": rss_mb()}), file=reply, flush=True)
        for line in sys.stdin:
            index = int(line)
            start = time.perf_counter()
            error = ""
            try:
                result = outcome(kind, draw(kind, ctx, seed, index), ctx, Path(tmp) / "in")
            except Exception as e:  # noqa: BLE001  (every other exception is what is counted)
                result, where = "traceback", traceback.extract_tb(e.__traceback__)[-1]
                error = f"{type(e).__name__}: {str(e)[:200]} ({where.filename}:{where.lineno})"
            answer = {"i": index, "outcome": result, "error": error}
            answer.update(s=time.perf_counter() - start, rss_mb=rss_mb())
            print(json.dumps(answer), file=reply, flush=True)


class Worker:
    """A worker process for one kind, answering one input index at a time."""

    def __init__(self, kind: str, seed: int) -> None:
        env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.fuzz", "--worker", kind, "--seed", str(seed)],
            cwd=ROOT,
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.pending = b""
        ready = self.answer(600)
        if not ready or not ready.get("ready"):
            raise RuntimeError(f"the {kind} fuzz worker did not start")
        self.baseline_mb = ready["rss_mb"]

    def answer(self, timeout: float) -> dict[str, Any] | None:
        """The next JSON line, ``{"dead": True}`` if the worker died, None after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            if b"\n" in self.pending:
                line, self.pending = self.pending.split(b"\n", 1)
                if line.startswith(b"{"):  # libraries may print other lines
                    return json.loads(line)
                continue
            left = deadline - time.monotonic()
            fd = self.proc.stdout.fileno()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return {"dead": True}
            self.pending += chunk

    def ask(self, index: int, timeout: float) -> dict[str, Any] | None:
        try:
            self.proc.stdin.write(f"{index}\n".encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            return {"dead": True}
        return self.answer(timeout)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def fuzz_kind(kind: str, n: int, seed: int, timeout: float) -> dict[str, Any]:
    counts = {"inputs": 0, "refused": 0, "accepted": 0, "tracebacks": 0, "hangs": 0}
    worker_, examples = Worker(kind, seed), []
    baseline, peak, slowest = worker_.baseline_mb, worker_.baseline_mb, 0.0
    start = time.perf_counter()
    for index in range(n):
        answer = worker_.ask(index, timeout)
        counts["inputs"] += 1
        if answer is None or answer.get("dead"):
            counts["hangs" if answer is None else "tracebacks"] += 1
            examples.append({"i": index, "problem": "hang" if answer is None else "worker died"})
            worker_.stop()
            worker_ = Worker(kind, seed)
            continue
        counts[answer["outcome"] if answer["outcome"] != "traceback" else "tracebacks"] += 1
        if answer["error"]:
            examples.append({"i": index, "problem": answer["error"]})
        peak, slowest = max(peak, answer["rss_mb"]), max(slowest, answer["s"])
    worker_.stop()
    return {
        **counts,
        "seconds": round(time.perf_counter() - start, 1),
        "slowest_input_s": round(slowest, 3),
        "worker_rss_at_start_mb": round(baseline, 1),
        "peak_rss_mb": round(peak, 1),
        "peak_rss_above_start_mb": round(peak - baseline, 1),
        "problems": examples[:20],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="inputs in all, split over kinds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds: a longer input hangs")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--worker", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--save-checkpoint", help=argparse.SUPPRESS)
    parser.add_argument("--env", default=ENV_ID, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.save_checkpoint:
        save_example(Path(args.save_checkpoint), args.env)
        return
    if args.worker:
        worker(args.worker, args.seed)
        return
    kinds = args.kinds.split(",")
    per_kind = -(-args.n // len(kinds))
    start = time.perf_counter()
    results = {}
    for kind in kinds:
        results[kind] = fuzz_kind(kind, per_kind, args.seed, args.timeout)
        print(kind, {k: v for k, v in results[kind].items() if k != "problems"}, flush=True)
    totals = {k: sum(r[k] for r in results.values())
              for k in ("inputs", "refused", "accepted", "tracebacks", "hangs")}  # fmt: skip
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    report = {
        "command": f"python -m benchmarks.fuzz --n {args.n} --seed {args.seed} "
        f"--timeout {args.timeout}",
        "git_commit": commit.stdout.strip(),
        "cores": os.cpu_count(),
        "timeout_s": args.timeout,
        "seconds": round(time.perf_counter() - start, 1),
        "totals": {
            **totals,
            **{
                k: max(r[k] for r in results.values())
                for k in ("peak_rss_mb", "peak_rss_above_start_mb", "slowest_input_s")
            },
        },
        "kinds": results,
    }
    atomic_write_json(args.out, report)
    print("totals", report["totals"])


if __name__ == "__main__":
    main()
