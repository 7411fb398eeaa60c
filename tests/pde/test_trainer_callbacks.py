"""The trainer built from parts: the built-in callbacks, a user's AbstractCallback, and its state on resume."""

import tiny_runs
import torch
from tiny_runs import heat1

from pde.models import MLP
from pde.solve import solve
from pde.training import (
    AbstractCallback,
    Checkpointer,
    FixedWeights,
    HistoryRecorder,
    ImbalanceWarning,
    NaNGuard,
    ProgressDisplay,
    SamplerUpdater,
    Settings,
    resume,
)
from pde.training.callbacks import FunctionCallback, default_callbacks


def small(**kw):
    return tiny_runs.small(**{"n_interior": 16, **kw})


class Counter(AbstractCallback):
    """Counts the hooks it sees; its state (the steps seen at log steps) travels in the checkpoint."""

    def __init__(self):
        self.starts, self.ends, self.logs, self.train_start, self.train_end = [], [], [], 0, 0

    def on_train_start(self, trainer):
        self.train_start += 1

    def on_step_start(self, trainer, step):
        self.starts.append(step)

    def on_step_end(self, trainer, step):
        self.ends.append(step)

    def on_log(self, trainer, step):
        assert trainer.history["step"][-1] == step  # the history is up to date at the log hooks
        self.logs.append(step)

    def on_train_end(self, trainer):
        self.train_end += 1

    def state_dict(self):
        return {"logs": torch.tensor(self.logs, dtype=torch.int64)}

    def load_state_dict(self, state):
        self.logs = [int(s) for s in state["logs"]]


def test_default_list_holds_the_builtins_in_loop_order():
    parts = default_callbacks(Settings(steps=3))
    assert [type(p) for p in parts] == [HistoryRecorder, SamplerUpdater, NaNGuard, ProgressDisplay, ImbalanceWarning,
                                        Checkpointer]
    assert ImbalanceWarning not in [type(p) for p in default_callbacks(Settings(steps=3, imbalance_warning=None))]


def test_trainer_puts_user_callbacks_after_the_guard_and_before_the_checkpointer():
    seen = {}
    cb = Counter()

    def fn(trainer):
        seen["parts"], seen["callbacks"] = list(trainer.parts), list(trainer.callbacks)

    solve(heat1(), MLP(width=8, depth=2), callbacks=[cb, fn], **small(steps=4))
    parts = seen["parts"]
    kinds = [type(p) for p in parts]
    assert kinds[:6] == [FixedWeights, HistoryRecorder, SamplerUpdater, NaNGuard, ProgressDisplay, ImbalanceWarning]
    assert kinds[-1] is Checkpointer
    assert parts[6] is cb and isinstance(parts[7], FunctionCallback) and parts[7].fn is fn and len(parts) == 9
    assert seen["callbacks"] == [cb, fn]  # the user's list as given


def test_user_callback_sees_every_step_and_every_log_step():
    cb = Counter()
    run = solve(heat1(), MLP(width=8, depth=2), callbacks=[cb], **small())
    assert run.status == "finished"
    assert cb.starts == list(range(12)) and cb.ends == list(range(1, 13))
    assert cb.logs == [4, 8, 12] and cb.train_start == 1 and cb.train_end == 1


def test_callback_can_stop_and_its_state_round_trips_through_resume(tmp_path):
    class StopAt(Counter):
        def __init__(self, at):
            super().__init__()
            self.at = at

        def on_log(self, trainer, step):
            super().on_log(trainer, step)
            return step >= self.at

    path = tmp_path / "cb.h5"
    first = StopAt(4)
    run = solve(heat1(), MLP(width=8, depth=2), callbacks=[first], out=path, **small(checkpoint_every=4))
    assert "stopped at step 4" in run.message and run.history["step"][-1] == 4 and first.logs == [4]
    second = StopAt(8)
    resumed = resume(path, quiet=True, callbacks=[second])
    assert second.logs == [4, 8]  # [4] restored from the checkpoint, 8 seen after the resume
    assert second.starts == [4, 5, 6, 7] and resumed.history["step"][-1] == 8


def test_lbfgs_phase_calls_the_parts_once_per_chunk():
    cb = Counter()
    phases = []

    def fn(trainer):
        phases.append((trainer.phase, trainer.step))

    run = solve(heat1(), MLP(width=8, depth=2), callbacks=[cb, fn], **small(steps=4, lbfgs_steps=8))
    assert run.history["step"][-1] in (8, 12)  # 12, or 8 if L-BFGS converged after one chunk
    assert cb.starts[:5] == [0, 1, 2, 3, 4] and cb.ends == [1, 2, 3, 4]  # on_step_end: Adam steps only
    assert phases[0] == ("adam", 4) and all(p == "lbfgs" for p, _ in phases[1:]) and len(phases) >= 2
    assert cb.logs == [s for _, s in phases]
