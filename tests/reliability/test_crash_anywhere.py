"""Crash anywhere: kill -9 a real sync process at random moments (or at random failpoints), re-run, and
prove every customer message, ticket, comment, reply and remote link exists exactly once.

``CONTINUUM_CRASH_TRIALS`` sets the number of trials (50 in ``make test``, 300 in ``make soak``);
``CONTINUUM_SEED`` replays a failing sequence (the seed is in every failure message).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.reliability.conftest import seed_for
from tests.reliability.figures import add_tally
from tests.reliability.world import World, dump, world

TRIALS = int(os.environ.get("CONTINUUM_CRASH_TRIALS", "50"))
ROOT = Path(__file__).resolve().parents[2]
# Where a crash hurts most: just before or after a write reached the system, after a page commit.
FAILPOINTS = ("before_write:jira", "after_write:jira", "before_write:discourse", "after_write:discourse",
              "after_page:discourse", "after_page:jira")


class Zygote:
    """The forking parent of the sync processes (see zygote.py)."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.reliability.zygote"], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def _ask(self, request: dict) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote died (exit {self.proc.poll()})")
        return json.loads(line)

    def fork(self, env: dict[str, str], db_url: str, log: Path) -> int:
        return int(self._ask({"env": env, "db_url": db_url, "log": str(log)})["pid"])

    def reap(self, pid: int) -> int:
        return int(self._ask({"reap": pid})["status"])

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


def _run_child(z: Zygote, w: World, log: Path, failpoint: str | None, kill_after: float | None) -> tuple[int, float]:
    env = {**w.env, "CONTINUUM_FAILPOINTS": failpoint or ""}
    started = time.monotonic()
    pid = z.fork(env, w.db_url, log)
    if kill_after is not None:
        time.sleep(kill_after)
        try:
            os.kill(pid, signal.SIGKILL)  # the child is not reaped yet: this pid is still ours
        except ProcessLookupError:
            pass
    status = z.reap(pid)
    return status, time.monotonic() - started


def test_kill_9_at_random_points_then_rerun_is_exactly_once(tmp_path: Path, figures: dict) -> None:
    seed = seed_for("crash")
    outcomes: Counter[str] = Counter()
    log = tmp_path / "children.log"
    z = Zygote()
    try:
        with world(tmp_path, seed) as w:
            rng = w.rng
            for _ in range(3):
                w.new_user()
            w.activity(topics=3)
            status, typical = _run_child(z, w, log, None, None)  # calibration: how long a run takes
            assert status == 0, log.read_text()[-3000:]
            for trial in range(TRIALS):
                w.activity(topics=rng.choice((1, 2, 3)), replies=rng.choice((0, 1, 2)),
                           staff_comments=rng.choice((0, 1, 1, 2)))
                if rng.random() < 0.3:
                    failpoint, kill_after = rng.choice(FAILPOINTS), None
                else:
                    failpoint, kill_after = None, rng.uniform(0.0, typical)
                status, took = _run_child(z, w, log, failpoint, kill_after)
                where = failpoint or f"kill -9 after {kill_after:.3f}s"
                context = f"seed={seed} trial={trial} crash={where}"
                assert status in (0, 99, -signal.SIGKILL), f"{context}: the sync failed (exit {status}):\n" \
                                                           + log.read_text()[-3000:]
                outcomes["killed" if status == -signal.SIGKILL else "failpoint" if status == 99
                         else "finished_before_the_crash"] += 1
                if status == 0:
                    typical = 0.7 * typical + 0.3 * took
                w.sync()  # run again to completion
                tally = w.check()
                add_tally(tally)
                figures["crash_trials"] += 1
                assert tally.duplicates == 0 and tally.lost == 0 and not tally.problems, f"{context}\n{dump(tally)}"
                if trial % 10 == 9:
                    before = w.summary()
                    w.sync()
                    after = w.summary()
                    for system in ("jira", "discourse"):
                        before["sims"][system].pop("calls"), after["sims"][system].pop("calls")
                    assert before == after, f"{context}: a quiet re-run changed something: {before} -> {after}"
    finally:
        z.close()
        figures["crash_outcomes"].update(outcomes)
    print(f"crash trials: {TRIALS} (seed {seed}) {dict(outcomes)}")
