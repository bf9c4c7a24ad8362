"""rlbook.checks: every reference solution of the book passes its check, typical wrong answers
fail with a message naming the mistake, and unfinished skeletons are reported, not raised."""

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from rlbook import checks

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = re.compile(
    r"````\{solution-start\} (?P<label>\S+).*?```\{code-cell\} ipython3\n(?P<code>.*?)\n```",
    re.S,
)


def solutions():
    """(chapter, label, code) of every coded solution in the chapters."""
    found = []
    for md in sorted((ROOT / "chapters").glob("*.md")):
        for m in SOLUTION.finditer(md.read_text()):
            found.append(pytest.param(m.group("code"), id=f"{md.stem}:{m.group('label')}"))
    return found


SOLUTIONS = solutions()


def test_every_check_has_a_solution_in_the_book():
    used = {re.search(r"checks\.(check_\w+)", s.values[0]).group(1) for s in SOLUTIONS}
    assert used == {name for name in checks.__all__ if name.startswith("check_")}


@pytest.mark.parametrize("code", SOLUTIONS)
def test_the_books_solution_passes_its_check(code, capsys):
    namespace = {"np": np, "torch": torch, "checks": checks}  # what the exercise cell imported
    exec(compile(code, "<solution>", "exec"), namespace)  # ends with `assert checks.check_...`
    assert "passed all" in capsys.readouterr().out


SKELETON = re.compile(
    r"```\{code-cell\} ipython3\n(?P<code>(?:(?!```).)*?raise NotImplementedError(?:(?!```).)*?)\n```",
    re.S,
)


def skeletons():
    """(chapter, code) of every exercise skeleton cell: a function that raises
    NotImplementedError, followed in the same cell by its check."""
    found = []
    for md in sorted((ROOT / "chapters").glob("*.md")):
        for i, m in enumerate(SKELETON.finditer(md.read_text())):
            found.append(pytest.param(m.group("code"), id=f"{md.stem}:{i}"))
    return found


@pytest.mark.parametrize("code", skeletons())
def test_every_skeleton_takes_the_arguments_its_check_passes(code, capsys):
    """The check calls the function positionally in its documented order: a skeleton with the
    wrong number of parameters would be reported as a crash, not as unfinished."""
    namespace = {"np": np, "torch": torch, "checks": checks}
    exec(compile(code, "<skeleton>", "exec"), namespace)
    out = capsys.readouterr().out
    assert "not implemented yet" in out, out


def test_a_right_answer_with_other_parameter_names_passes():
    """Students name parameters their own way: only the order matters (positional call)."""

    def td3_target(qa, qb, pt, r, s2, term, g, e, c, lo, hi):
        a = np.clip(pt(s2) + np.clip(e, -c, c), lo, hi)
        return r + g * (1 - term) * np.minimum(qa(s2, a), qb(s2, a))

    assert checks.check_td3_target(td3_target, say=False)
    wrong_arity = checks.check_td3_target(lambda qa, qb: qa, say=False)
    assert not wrong_arity and "in this order: q_a, q_b, policy_target" in wrong_arity.message


def test_an_unfinished_skeleton_is_reported_not_raised(capsys):
    def ou_step(x, theta, mu, sigma, dt, eps):
        raise NotImplementedError

    result = checks.check_ou_step(ou_step)
    assert not result and "not implemented yet" in capsys.readouterr().out


def test_a_crashing_function_is_reported_with_its_inputs():
    result = checks.check_ou_step(lambda x, theta, mu, sigma, dt, eps: x[5], say=False)
    assert not result and "raised" in result.message and "inputs" in result.message


def test_a_wrong_shape_is_reported():
    result = checks.check_consistency_error(
        lambda v_start, v_end, rewards, log_pi, gamma, alpha: np.zeros(2), say=False
    )
    assert not result and "shape" in result.message


def _fails_with(result, mistake):
    assert not result.passed, result.message
    assert "FAILED on case" in result.message and "expected" in result.message
    assert mistake in result.message, result.message


# typical wrong answers, each must fail and be named ---------------------------------------------
def test_td3_target_mistakes():
    def target(pick=np.minimum, clip_noise=True, clip_box=True, mask=True):
        def fn(
            q_a, q_b, policy_target, rew, next_obs, terminated, gamma, eps, noise_clip, low, high
        ):
            e = np.clip(eps, -noise_clip, noise_clip) if clip_noise else eps
            a = policy_target(next_obs) + e
            a = np.clip(a, low, high) if clip_box else a
            return rew + gamma * ((1 - terminated) if mask else 1) * pick(
                q_a(next_obs, a), q_b(next_obs, a)
            )

        return fn

    assert checks.check_td3_target(target(), say=False)
    _fails_with(checks.check_td3_target(target(pick=np.maximum), say=False), "max of the two")
    _fails_with(
        checks.check_td3_target(target(clip_noise=False), say=False), "clipping the smoothing"
    )
    _fails_with(checks.check_td3_target(target(clip_box=False), say=False), "action box")
    _fails_with(checks.check_td3_target(target(mask=False), say=False), "terminal mask")


def test_squashed_gaussian_mistakes_and_agreement_with_the_package():
    def logp(correction=True, scale_in_correction=True, naive=False):
        def fn(mu, log_std, u, scale):
            out = torch.distributions.Normal(mu, log_std.exp()).log_prob(u)
            if correction:
                s = scale if scale_in_correction else torch.ones_like(scale)
                if naive:
                    out = out - torch.log(s * (1 - torch.tanh(u) ** 2))
                else:  # log(1 - tanh^2 u) = 2 (log 2 - u - softplus(-2u)), the chapter's form
                    softplus = torch.nn.functional.softplus(-2 * u)
                    out = out - torch.log(s) - 2 * (math.log(2) - u - softplus)
            return out.sum(-1)

        return fn

    assert checks.check_squashed_gaussian_log_prob(logp(), say=False)
    # the naive form is right for moderate u but infinite where tanh(u) rounds to 1: named
    _fails_with(
        checks.check_squashed_gaussian_log_prob(logp(naive=True), say=False),
        "naive log(1 - tanh(u)^2), which is -inf for large |u| in float32",
    )
    _fails_with(
        checks.check_squashed_gaussian_log_prob(logp(correction=False), say=False),
        "tanh correction",
    )
    _fails_with(
        checks.check_squashed_gaussian_log_prob(logp(scale_in_correction=False), say=False),
        "action scale",
    )
    # the reference agrees with the package's actor, which SAC trains with
    from rlbook.networks import SquashedGaussianActor

    torch.manual_seed(0)
    actor = SquashedGaussianActor(3, np.array([-2.0, 0.0]), np.array([2.0, 1.0]), (8,)).double()
    mu, log_std = actor.distribution_params(torch.randn(5, 3, dtype=torch.float64))
    u = torch.randn(5, 2, dtype=torch.float64)
    reference = logp()(mu, log_std, u, actor.rescale.scale.double())
    # float64, two formulas for the same density: ~1e-15, far inside allclose's 1e-5 relative
    assert torch.allclose(actor.log_prob_from_pre_tanh(u, mu, log_std), reference)


def test_ema_tau_on_the_wrong_side_is_named():
    assert checks.check_ema_update(
        lambda target, online, tau: tau * online + (1 - tau) * target, say=False
    )
    _fails_with(
        checks.check_ema_update(
            lambda target, online, tau: tau * target + (1 - tau) * online, say=False
        ),
        "tau on the wrong side",
    )


def test_consistency_error_mistakes():
    def c(off_by_one=False, discount=True, sign=1):
        def fn(v_start, v_end, rewards, log_pi, gamma, alpha):
            d = len(rewards)
            disc = gamma ** np.arange(d) if discount else np.ones(d)
            end = gamma ** (d - 1 if off_by_one else d)
            return -v_start + end * v_end + np.sum(disc * (rewards - sign * alpha * log_pi))

        return fn

    assert checks.check_consistency_error(c(), say=False)
    _fails_with(checks.check_consistency_error(c(off_by_one=True), say=False), "off-by-one")
    _fails_with(checks.check_consistency_error(c(discount=False), say=False), "dropping the disc")
    _fails_with(checks.check_consistency_error(c(sign=-1), say=False), "entropy sign")


def test_other_checks_name_their_mistakes():
    _fails_with(
        checks.check_ou_step(
            lambda x, theta, mu, sigma, dt, eps: x + theta * (mu - x) * dt + sigma * dt * eps,
            say=False,
        ),
        "sqrt(dt)",
    )
    _fails_with(
        checks.check_double_dqn_target(
            lambda q_online, q_target, rew, terminated, gamma: (
                rew + gamma * (1 - terminated) * q_target.max(1)
            ),
            say=False,
        ),
        "DQN's target",
    )
    _fails_with(
        checks.check_explicit_max_target(
            lambda q, rew, next_obs, terminated, gamma, actions: (
                rew
                + (1 - terminated)
                * q(
                    np.repeat(next_obs, len(actions), 0),
                    np.tile(actions[:, None], (len(next_obs), 1)),
                )
                .reshape(len(next_obs), -1)
                .max(1)
            ),
            say=False,
        ),
        "without the discount",
    )
    _fails_with(
        checks.check_sac_actor_loss(
            lambda q_values, logp, alpha: (alpha * logp - q_values.max(0).values).mean(), say=False
        ),
        "max of the critics",
    )
    _fails_with(
        checks.check_nfqca_policy_loss(
            lambda q, policy, obs: q(obs, policy(obs)).mean(), say=False
        ),
        "descending",
    )
    _fails_with(
        checks.check_smooth_max(
            lambda values, beta: np.log(np.exp(beta * values).mean(-1)) / beta, say=False
        ),
        "mean of exp",
    )
    _fails_with(
        checks.check_amortized_policy_loss(
            lambda policy, states, best_actions: ((policy(states) - best_actions) ** 2).sum(),
            say=False,
        ),
        "sum over the batch",
    )
    _fails_with(
        checks.check_euler_residual(
            lambda k, policy, alpha, beta, delta, sigma: (
                policy(k) ** -sigma
                - beta
                * policy(k**alpha + (1 - delta) * k - policy(k)) ** -sigma
                * alpha
                * (k**alpha + (1 - delta) * k - policy(k)) ** (alpha - 1)
            ),
            say=False,
        ),
        "undepreciated",
    )


def test_temperature_loss_mistakes_and_agreement_with_the_package():
    from rlbook.sac import alpha_loss

    assert checks.check_temperature_loss(alpha_loss, say=False)  # the loss SAC trains alpha with
    _fails_with(
        checks.check_temperature_loss(
            lambda log_alpha, logp, target: (log_alpha * (logp + target)).mean(), say=False
        ),
        "opposite sign",
    )
    _fails_with(
        checks.check_temperature_loss(
            lambda log_alpha, logp, target: -(log_alpha * (logp - target)).mean(), say=False
        ),
        "target's sign",
    )
    _fails_with(
        checks.check_temperature_loss(
            lambda log_alpha, logp, target: -(log_alpha.exp() * (logp + target)).mean(), say=False
        ),
        "exp(log_alpha)",
    )


def test_the_package_reexports_every_checker_from_its_modules():
    """``rlbook.checks`` is a package split by chapter; ``checks.check_...`` and
    ``from rlbook.checks import ...`` keep working for every public name of its modules."""
    from rlbook.checks import CheckResult, actor_critic, euler_pcl, grading, q_targets

    modules = (actor_critic, euler_pcl, grading, q_targets)
    public = [name for m in modules for name in m.__all__]
    assert sorted(public) == sorted(checks.__all__) and len(set(public)) == len(public)
    for m in modules:
        for name in m.__all__:
            assert getattr(checks, name) is getattr(m, name)
    assert isinstance(
        checks.check_ema_update(lambda t, o, tau: tau * o + (1 - tau) * t), CheckResult
    )
