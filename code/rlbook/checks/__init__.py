"""Self-checks for the book's exercises: one function per exercise.

Each ``check_*`` calls a student's function on randomized inputs and edge cases, compares it with
the reference, and prints either a pass or the *first* input where it differs, with the expected
and actual values and a hint. When the wrong answer is one of the mistakes people typically make
(a max for a min, a missing tanh correction, tau on the wrong side, an off-by-one in d, a dropped
discount...), the hint names it. A function that still raises ``NotImplementedError`` (the
skeletons in the chapters) is reported as not done yet, so an exercise cell never fails a build.

Every check returns a :class:`CheckResult`, true when the function passed. The student's function
is called positionally, in the order its docstring documents.

Each checker writes its reference once, as a factory ``variant(**switches)`` whose switches all
default to the right answer: ``reference = variant()``, and a mistake is the reference with one
thing changed, e.g. ``variant(mask=False)`` for a target without the terminal mask. The checkers
live in modules by chapter: :mod:`.q_targets` (smoothing, DQN-family and FQI targets, NFQCA),
:mod:`.actor_critic` (DDPG, TD3, SAC), :mod:`.euler_pcl` (Euler equations, PCL); the comparison
loop is :mod:`.grading`.
"""

from .actor_critic import (
    check_ema_update,
    check_ou_step,
    check_sac_actor_loss,
    check_squashed_gaussian_log_prob,
    check_td3_target,
    check_temperature_loss,
)
from .euler_pcl import check_consistency_error, check_euler_residual
from .grading import CheckResult
from .q_targets import (
    check_amortized_policy_loss,
    check_double_dqn_target,
    check_explicit_max_target,
    check_nfqca_policy_loss,
    check_smooth_max,
)

__all__ = [
    "CheckResult",
    "check_amortized_policy_loss",
    "check_consistency_error",
    "check_double_dqn_target",
    "check_ema_update",
    "check_euler_residual",
    "check_explicit_max_target",
    "check_nfqca_policy_loss",
    "check_ou_step",
    "check_sac_actor_loss",
    "check_smooth_max",
    "check_squashed_gaussian_log_prob",
    "check_td3_target",
    "check_temperature_loss",
]
