"""The identities the text relies on, each checked by numbers against an independent computation.

Each test states the identity as the book writes it (chapter:line) and computes both sides by
different routes: the package where it implements the object, and in the test (linear algebra,
closed forms, quadrature, simulation) where it does not. Every tolerance says where it comes from:
float64 rounding, quadrature error, or Monte Carlo standard errors (at least 5, fixed seeds).
"""

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import scipy.special
import scipy.stats
import torch

from rlbook import euler as E
from rlbook import pcl as P
from rlbook import sac as S
from rlbook.networks import DeterministicActor, QEnsemble, SquashedGaussianActor
from rlbook.noise import OrnsteinUhlenbeckNoise, ou_stationary_std

pytestmark = pytest.mark.usefixtures("one_thread")


# --- PCL: one-step identity for every action, and the d-step chain -------------------------------
GAMMA = 0.9


def soft_policy_evaluation(mdp, pi, gamma, alpha):
    """``v^pi`` of the entropy-regularised problem, by one linear solve (independent of soft value
    iteration): ``v = r_pi + gamma P_pi v`` with ``r_pi(s) = sum_a pi(a|s) (r(s,a) - alpha log pi(a|s))``."""
    n = mdp.n_states
    # soft value iteration's pi* sums to 1 only to about its stopping step / alpha (1e-14 / 0.05);
    # unnormalised, that defect would enter v through (I - gamma P)^-1, times |v| / (1 - gamma)
    pi = pi / pi.sum(1, keepdims=True)
    P_pi = np.zeros((n, n))
    for a in range(mdp.n_actions):
        np.add.at(P_pi, (np.arange(n), mdp.next_state[:, a]), pi[:, a])
    r_pi = (pi * (mdp.reward - alpha * np.log(pi))).sum(1)
    return np.linalg.solve(np.eye(n) - gamma * P_pi, r_pi)


MDPS = {
    "random": P.DeterministicMDP.random(8, 4, seed=3),
    "chain": P.DeterministicMDP.chain(10, step_cost=0.05),
}


@pytest.fixture(
    scope="module",
    params=[(m, a) for m in MDPS for a in (0.5, 0.05)],
    ids=lambda p: f"{p[0]}-alpha{p[1]}",
)
def soft_optimum(request):
    name, alpha = request.param
    mdp = MDPS[name]
    v, q, pi = P.soft_value_iteration(mdp, GAMMA, alpha)
    return mdp, alpha, v, pi


# Bound on the float64 error of one soft-Bellman step at the computed optimum. Soft value iteration
# stops when a sweep moves v by < 1e-14, so v is within gamma/(1-gamma) * 1e-14 = 9e-14 of v*;
# a one-step residual mixes v at two states (factor 1 + gamma): 1.7e-13. The linear solve of
# soft_policy_evaluation adds at most cond_inf(I - gamma P) = (1+gamma)/(1-gamma) = 19 times a
# few ulp of |v| (< 40 here): ~1e-12. ONE_STEP_TOL = 1e-11 keeps a factor 5 over their sum for the
# constants that this rounding bound leaves out.
ONE_STEP_TOL = 1e-11


def test_pcl_one_step_identity_holds_for_every_action(soft_optimum):
    """pcl.md:82 (from pcl.md:76): ``v*(s) = r(s,a) - alpha log pi*(a|s) + gamma v*(f(s,a))``, i.e.
    ``alpha log pi*(a|s) = q*(s,a) - v*(s)`` with ``q*(s,a) = r(s,a) + gamma v*(f(s,a))``, for EVERY
    action ``a``, not only in expectation over ``a ~ pi*``.

    ``pi*`` is the one soft value iteration returns (rlbook.pcl); ``v`` is not the iteration's but
    the exact soft value of that ``pi*`` by a linear solve, so the check is not the definition
    ``pi = exp((q - v)/alpha)`` read back: it holds only because ``pi*`` is Boltzmann in its own
    soft q-values (the fixed point of soft policy improvement). The actions checked include ones
    with ``pi*(a|s)`` below 1e-16 (alpha = 0.05). A non-optimal policy fails it.
    """
    mdp, alpha, v_star, pi = soft_optimum
    v = soft_policy_evaluation(mdp, pi, GAMMA, alpha)
    assert np.abs(v - v_star).max() < ONE_STEP_TOL  # the iteration's v* is pi*'s own soft value
    q = mdp.reward + GAMMA * v[mdp.next_state]
    residual = alpha * np.log(pi) - (q - v[:, None])  # every (s, a), shape (S, A)
    assert np.abs(residual).max() < ONE_STEP_TOL
    # the soft Bellman equation with the action chosen, per action, in the form of pcl.md:82
    rhs = mdp.reward - alpha * np.log(pi) + GAMMA * v[mdp.next_state]
    assert np.abs(rhs - v[:, None]).max() < ONE_STEP_TOL
    # a policy 10% away from pi* (mixed with uniform) is not consistent with its own value
    mixed = 0.9 * pi + 0.1 / mdp.n_actions
    v_mixed = soft_policy_evaluation(mdp, mixed, GAMMA, alpha)
    q_mixed = mdp.reward + GAMMA * v_mixed[mdp.next_state]
    assert np.abs(alpha * np.log(mixed) - (q_mixed - v_mixed[:, None])).max() > 1e-3
    # and pi* is optimal: no other policy has a higher soft value at any state
    rng = np.random.default_rng(0)
    for _ in range(20):
        other = rng.dirichlet(np.ones(mdp.n_actions), size=mdp.n_states)
        assert (soft_policy_evaluation(mdp, other, GAMMA, alpha) <= v + ONE_STEP_TOL).all()


def path_sums(mdp, v, pi, alpha, gamma, actions, s0):
    """Along the path from ``s0`` under ``actions``: ``sum_i gamma^i (r_i - alpha log pi(a_i|s_i))``,
    the end state, and the per-step terms (a plain loop, not rlbook.pcl.consistency_error)."""
    s, total, terms = s0, 0.0, []
    for i, a in enumerate(actions):
        term = mdp.reward[s, a] - alpha * math.log(pi[s, a])
        terms.append(term)
        total += gamma**i * term
        s = int(mdp.next_state[s, a])
    return total, s, np.array(terms)


@pytest.mark.parametrize("d", [1, 2, 5, 10, 25])
def test_pcl_d_step_chain_along_any_action_sequence(soft_optimum, d):
    """pcl.md:117 (C = 0 at the optimum, pcl.md:195) and pcl.md:184: along ANY action sequence
    ``a_0, ..., a_{d-1}`` from ``s_0`` (uniformly random actions, and the least likely action at
    every step),

        sum_{i=0}^{d-1} gamma^i (r(s_i, a_i) - alpha log pi*(a_i|s_i)) = v*(s_0) - gamma^d v*(s_d).

    pcl.md:184 (the source's form) writes the chain for the d states ``s_1..s_d`` (d - 1 actions): end value
    ``gamma^{d-1} v*(s_d)``, terms ``gamma^{i-1}``, i = 1..d-1; it is checked in that form too. Mixing
    the two conventions (d actions with ``gamma^{d-1}``) fails. rlbook.pcl.consistency_error agrees.

    Tolerance: the chain telescopes d one-step identities weighted by gamma^i, so its error is at
    most sum_i gamma^i * ONE_STEP_TOL <= ONE_STEP_TOL / (1 - gamma) = 10 * ONE_STEP_TOL.
    """
    mdp, alpha, v, pi = soft_optimum
    tol = ONE_STEP_TOL / (1 - GAMMA)
    rng = np.random.default_rng(100 + d)
    worst, worst_mixed = 0.0, 0.0
    for k in range(60):
        s0 = int(rng.integers(mdp.n_states))
        if k < 50:
            actions = rng.integers(mdp.n_actions, size=d)
        else:  # the least likely action of pi* at every state along the path
            actions, s = [], s0
            for _ in range(d):
                actions.append(int(pi[s].argmin()))
                s = int(mdp.next_state[s, actions[-1]])
        total, s_d, terms = path_sums(mdp, v, pi, alpha, GAMMA, actions, s0)
        worst = max(worst, abs(total - (v[s0] - GAMMA**d * v[s_d])))
        rewards, probs = _along(mdp, pi, s0, actions)
        C = P.consistency_error(v[s0], v[s_d], rewards, np.log(probs), GAMMA, alpha)
        assert abs(float(C[0])) < tol
        # pcl.md:184 literally: states s_1..s_{d+1} (d + 1 states), so "d" there is d + 1 here
        n_states = d + 1
        book_lhs = v[s0] - GAMMA ** (n_states - 1) * v[s_d]
        book_rhs = sum(GAMMA ** (i - 1) * terms[i - 1] for i in range(1, n_states))
        assert abs(book_lhs - book_rhs) < tol
        worst_mixed = max(worst_mixed, abs(total - (v[s0] - GAMMA ** (d - 1) * v[s_d])))
    assert worst < tol
    assert worst_mixed > 1e-3  # the wrong power of gamma on the end value is far off


def _along(mdp, pi, s0, actions):
    """Rewards and pi*(a_i|s_i) along the path, shaped (1, d) for rlbook.pcl.consistency_error."""
    s, rewards, probs = s0, [], []
    for a in actions:
        rewards.append(mdp.reward[s, a])
        probs.append(pi[s, a])
        s = int(mdp.next_state[s, a])
    return np.array(rewards)[None], np.array(probs)[None]


# --- PCL: the losses of the code and the gradient of C^2 / 2 -------------------------------------
F32_EPS = float(torch.finfo(torch.float32).eps)


def _sum_half_c_squared(ep, log_pi, v, d, gamma, alpha):
    """``sum_paths C^2 / 2`` of an episode from the definition of C (pcl.md:195), by a plain loop:
    the full paths after a truncation, every start with the path cut at the terminal state (end
    value 0) after a termination (pcl.md, "PCL in practice"). Also returns ``max |C|``."""
    s, a, r, T = ep.obs, ep.actions, ep.rewards, len(ep.rewards)
    total, worst = 0.0, 0.0
    for i in range(T) if ep.terminated else range(T - d + 1):
        n = min(d, T - i)
        C = -v[s[i]]
        for j in range(n):
            C = C + gamma**j * (r[i + j] - alpha * log_pi[s[i + j], a[i + j]])
        if not (ep.terminated and i + n == T):
            C = C + gamma**n * v[s[i + n]]
        total = total + 0.5 * C**2
        worst = max(worst, abs(float(C.detach())))
    return total, worst


@pytest.mark.parametrize("terminated", [False, True])
def test_pcl_losses_have_the_gradient_of_half_c_squared_over_alpha(terminated):
    """pcl.md:246-265 and pcl.md:402-408: with C held fixed, rlbook.pcl.PCL's value loss
    ``-C [v(s_i) - gamma^d v(s_{i+d})]`` has the gradient of ``sum C^2 / 2``, its policy loss
    ``-C sum_j gamma^j log pi`` that gradient divided by alpha; UnifiedPCL's loss, with
    ``lr_pi = alpha lr_v``, has the gradient of ``sum C^2 / 2``. Checked through the change one SGD
    step of ``update_on_episode`` makes to the tables: ``-(lr_pi / alpha) grad`` for the policy,
    ``-lr_v grad`` for the value, ``-lr_v grad`` for Unified PCL, with ``grad`` torch's autograd
    of the float64 loop above (not the package's consistency_error).

    Tolerance: the package computes in float32. Each gradient entry sums at most ``T * d`` products
    of an error |C| <= max|C| with a factor of size <= 2 (``gamma^j |1[b = a] - pi|``, or
    ``1 + gamma^d``), so its float32 rounding is below ``T * d * 2 max|C| * eps`` (a bound on the
    rounding of every sum and product on the way, each exact to eps relative); the step
    ``lr * grad`` subtracted from parameters of order 1 adds a few eps.
    """
    mdp = P.DeterministicMDP.random(5, 3, seed=7)
    gamma, alpha, d, T, lr = 0.9, 0.3, 3, 8, 0.1
    rng = np.random.default_rng(0)
    ep = P.rollout(mdp, None, T, rng, start=0, actions=rng.integers(0, 3, T))
    ep = P.Episode(ep.obs, ep.actions, ep.rewards, terminated)
    torch.manual_seed(1)
    logits, values = torch.randn(5, 3), torch.randn(5)  # float32, the tables' own dtype

    # PCL: two tables
    phi = logits.double().requires_grad_()
    psi = values.double().requires_grad_()
    loss, worst = _sum_half_c_squared(ep, torch.log_softmax(phi, -1), psi, d, gamma, alpha)
    loss.backward()
    config = P.PCLConfig(gamma=gamma, alpha=alpha, d=d, lr_pi=lr, lr_v=2 * lr, optimizer="sgd")
    policy, value = P.Table(5, 3), P.Table(5, 1)
    with torch.no_grad():
        policy.theta.copy_(logits)
        value.theta.copy_(values[:, None])
    P.PCL(policy, value, config).update_on_episode(ep)
    tol = T * d * 2 * worst * F32_EPS + 4 * F32_EPS
    step_phi = policy.theta.detach().double() - phi.detach()
    step_psi = value.theta.detach().double()[:, 0] - psi.detach()
    assert phi.grad.abs().max() > 0.1 and psi.grad.abs().max() > 0.1  # a real test
    assert torch.allclose(step_phi, -(lr / alpha) * phi.grad, rtol=0, atol=lr / alpha * tol)
    assert torch.allclose(step_psi, -(2 * lr) * psi.grad, rtol=0, atol=2 * lr * tol)

    # Unified PCL: one table, v = alpha logsumexp(q / alpha), pi = softmax(q / alpha)
    q = logits.double().requires_grad_()
    loss, worst = _sum_half_c_squared(
        ep,
        torch.log_softmax(q / alpha, -1),
        alpha * torch.logsumexp(q / alpha, -1),
        d,
        gamma,
        alpha,
    )
    loss.backward()
    config = P.PCLConfig(gamma=gamma, alpha=alpha, d=d, lr_pi=alpha * lr, lr_v=lr, optimizer="sgd")
    table = P.Table(5, 3)
    with torch.no_grad():
        table.theta.copy_(logits)
    P.UnifiedPCL(table, config).update_on_episode(ep)
    # the log-probabilities and values of q / alpha carry a factor 1 / alpha into every term
    tol = (T * d * 2 * worst * F32_EPS + 4 * F32_EPS) / alpha
    step_q = table.theta.detach().double() - q.detach()
    assert q.grad.abs().max() > 0.1
    assert torch.allclose(step_q, -lr * q.grad, rtol=0, atol=lr * tol)


def test_adam_steps_do_not_change_when_every_gradient_is_scaled():
    """pcl.md:259-261: with ``optimizer="adam"`` the factor alpha that PCL's policy loss leaves out
    makes no difference: Adam's step ``lr m_hat / (sqrt(v_hat) + eps)`` is the same for the
    gradients ``k g_t`` as for ``g_t``, up to its ``eps = 1e-8``; plain SGD's is k times larger.

    Tolerance: with the gradients scaled by k, Adam's step is ``lr m_hat / (sqrt(v_hat) + eps / k)``,
    so per step the two differ by at most ``lr (|m_hat| / sqrt(v_hat)) eps / sqrt(v_hat)``; the ratio
    ``|m_hat| / sqrt(v_hat)`` stays below 3 here (checked), so over n steps the parameters differ by
    at most ``n * lr * 3 * eps / min sqrt(v_hat)``.
    """
    torch.manual_seed(0)
    n, lr, k = 50, 1e-2, 1 / 0.05  # k = 1 / alpha for Pendulum's alpha = 0.05
    grads = [torch.randn(20, dtype=torch.float64) for _ in range(n)]
    ends, min_rms = [], float("inf")
    for scale in (1.0, k):
        p = torch.zeros(20, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=lr)
        for g in grads:
            p.grad = scale * g
            opt.step()
            state = opt.state[p]
            t = int(state["step"])
            m_hat = state["exp_avg"] / (1 - 0.9**t)
            rms = (state["exp_avg_sq"] / (1 - 0.999**t)).sqrt()
            assert (m_hat.abs() / rms).max() < 3
            min_rms = min(min_rms, float(rms.min()) / scale)
        ends.append(p.detach().clone())
    bound = n * lr * 3 * 1e-8 / min_rms
    assert (ends[0] - ends[1]).abs().max() < bound
    assert ends[0].abs().max() > 0.1  # the parameters did move
    sgd = []
    for scale in (1.0, k):
        p = torch.zeros(20, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([p], lr=lr)
        for g in grads:
            p.grad = scale * g
            opt.step()
        sgd.append(p.detach().clone())
    assert torch.allclose(sgd[1], k * sgd[0], rtol=1e-12, atol=0)  # float64: a few ulp


# --- Euler: the envelope formula -----------------------------------------------------------------
@pytest.mark.parametrize("sigma_u", [2.0, 0.5])
def test_envelope_formula_on_cake_eating_against_its_value_series(sigma_u):
    """euler.md:253-259: ``dv*/ds1 = dr/ds1 - dr/da * h`` at ``a = pi*(s1)``; for cake eating
    (``W' = R (W - c)``, ``r = u(c)``, ``h = -1``, euler.md:495) it reads ``v*'(W) = u'(c*(W))``.

    ``v*`` is computed as the discounted sum of utilities along the closed-form optimal path
    (rlbook.euler.cake_eating's ``closed_form``, ``c = kappa W``, ``W_{t+1} = R (1 - kappa) W_t``),
    summed term by term (not the closed-form value ``kappa^-sigma W^(1-sigma)/(1-sigma)``), and
    differentiated by central differences. The source's plus sign gives ``-u'(c)``: wrong sign.

    Tolerance: the central difference with step ``h = 1e-5 W`` has truncation error
    ``h^2 |v'''| / 6 = sigma (sigma + 1)/6 * 1e-10`` relative to ``v'`` (v is a power of W);
    the series (3,000 terms, ratio 1 - kappa, tail below 1e-40) summed with math.fsum is exact to
    a few ulp of |v|, which the difference divides by h: a few eps * W / h = ~1e-10 relative.
    Their sum is below 4e-10; assert 2e-9.
    """
    p = E.cake_eating(beta=0.95, R=1.02, sigma_u=sigma_u)
    kappa, R, beta = p.info["kappa"], 1.02, p.beta
    growth = R * (1 - kappa)

    def value(w):  # sum_t beta^t u(c_t) along the optimal path from W
        terms = [beta**t * p.r(0.0, 1.0, kappa * w * growth**t) for t in range(3000)]
        return math.fsum(terms)

    w = np.linspace(0.5, 9.0, 12)
    h = 1e-5 * w
    dv = np.array([(value(x + dx) - value(x - dx)) / (2 * dx) for x, dx in zip(w, h, strict=True)])
    one = np.ones_like(w)
    c = p.closed_form(w, one)
    r_s1, r_a, hh = p.r_s1(w, one, c), p.r_a(w, one, c), p.h(w, one, c)
    assert np.abs((r_s1 - r_a * hh) / dv - 1).max() < 2e-9
    assert np.allclose(r_s1 + r_a * hh, -dv, rtol=2e-9)  # the plus sign: the opposite of v*'


# --- Euler: the growth model's Euler equation, its closed form, and the value it implies ---------
@pytest.mark.parametrize(
    "params",
    [dict(sigma_z=0.01), dict(sigma_z=0.0, width=0.8), dict(sigma_u=1.0, delta=1.0, sigma_z=0.02)],
    ids=["stochastic", "deterministic", "log-full-depreciation"],
)
def test_general_euler_residual_is_the_growth_models_euler_equation(params):
    """euler.md:153-157 and euler.md:303-309: the general residual ``E(pi)`` (with
    ``r = u(c)``, ``f = z k^alpha + (1 - delta) k - c``, ``h = -(alpha z k^(alpha-1) + 1 - delta)``)
    is ``u'(c) - gamma E[u'(c') (alpha z' k'^(alpha-1) + 1 - delta) | z]``, the equation derived by
    hand. Both sides for a policy that is *not* optimal (a fit of the initial guess), so the
    residual is far from zero; the right side computed here from the formula, with Gauss-Hermite
    quadrature over ``log z' = rho log z + sigma_z eps``.

    Tolerance: both are sums of O(|u'|) terms, each a dozen float64 operations apart; 64 eps times
    the sum of the terms' magnitudes.
    """
    p = E.stochastic_growth(**params)
    alpha, delta, sigma = p.info["alpha"], p.info["delta"], p.info["sigma_u"]
    policy = E.ChebyshevPolicy(p, 3, 2)
    s1, s2 = E.check_grid(p, 31, 7)
    theta = policy.fit(s1, s2, p.initial_policy(s1, s2))
    gamma = p.beta
    rho, zs = (p.process.rho, p.process.sigma) if p.process.continuous else (0.0, 0.0)
    x, w = np.polynomial.hermite.hermgauss(5) if zs else (np.zeros(1), np.ones(1) * np.sqrt(np.pi))
    k, z = s1, s2
    c = policy(theta, k, z)
    k_next = z * k**alpha + (1 - delta) * k - c
    terms = []
    for xj, wj in zip(x, w / np.sqrt(np.pi), strict=True):
        z_next = np.exp(rho * np.log(z) + zs * np.sqrt(2.0) * xj) if zs else np.ones_like(z)
        c_next = policy(theta, k_next, z_next)
        terms.append(wj * c_next**-sigma * (alpha * z_next * k_next ** (alpha - 1) + 1 - delta))
    hand = c**-sigma - gamma * np.sum(terms, axis=0)
    package = E.euler_residual(p, policy, theta, k, z, relative=False)
    scale = c**-sigma + gamma * np.sum(np.abs(terms), axis=0)
    assert np.abs(hand).max() > 1e-3 * scale.max()  # a policy far from optimal: a real test
    assert np.all(np.abs(package - hand) <= 64 * np.finfo(float).eps * scale)


def test_brock_mirman_closed_form_satisfies_the_euler_equation_for_every_shock():
    """euler.md:749-752 (exercise ex-euler-closed): with log utility and full depreciation,
    ``c* = (1 - alpha gamma) z k^alpha`` makes ``gamma alpha z' k'^(alpha-1) / c*(k', z')`` equal
    ``1 / c*(k, z)`` for every ``z'``, so the Euler equation holds whatever the shock's law.

    Tolerance: each side is a handful of float64 operations (powers to 1 ulp): 16 eps relative.
    The package's residual (relative to u'(c), Gauss-Hermite expectation) at the closed form: 64 eps.
    """
    p = E.brock_mirman()
    alpha, gamma = p.info["alpha"], p.beta
    rng = np.random.default_rng(0)
    k, z = rng.uniform(*p.s1_bounds, 200), rng.uniform(*p.s2_bounds, 200)
    c = (1 - alpha * gamma) * z * k**alpha
    k_next = z * k**alpha - c
    for z_next in rng.lognormal(0.0, 0.5, 20):  # any law of z': far wider than the model's
        tomorrow = gamma * alpha * z_next * k_next ** (alpha - 1) / p.closed_form(k_next, z_next)
        assert np.all(np.abs(tomorrow * c - 1) <= 16 * np.finfo(float).eps)

    def closed_form(theta, s1, s2):
        return p.closed_form(s1, s2)

    s1, s2 = E.check_grid(p)
    residual = E.euler_residual(p, closed_form, None, s1, s2)
    assert np.abs(residual).max() <= 64 * np.finfo(float).eps


def test_brock_mirman_value_derivative_is_the_envelope_formula():
    """euler.md:275-300 (corr-euler-envelope, exercise ex-brock-mirman-value): in the deterministic
    Brock-Mirman model ``v*(k) = E + F log k`` with ``F = alpha / (1 - alpha gamma)``, so
    ``v*'(k) = F / k``, and the envelope formula with the minus sign,
    ``r_k - r_c h = alpha k^(alpha-1) / c*``, is that; the source's plus sign gives ``-F / k``.

    ``v*`` is summed term by term along the optimal path ``k_{t+1} = alpha gamma k_t^alpha``
    (math.fsum; 1,500 terms, gamma^1500 ~ 1e-34), not taken from the closed form.

    Tolerance: central difference with step 1e-5 k: truncation (1e-5)^2 / 3 relative; rounding:
    |v*| ~ 21 exact to a few ulp, divided by 2e-5 F (F ~ 0.55): ~2e-9 relative; assert 1e-8.
    The primitives at the closed form: a few roundings, 8 eps.
    """
    p = E.brock_mirman()
    alpha, gamma = p.info["alpha"], p.beta
    F = alpha / (1 - alpha * gamma)

    def value(k):
        terms = []
        for t in range(1500):
            terms.append(gamma**t * math.log((1 - alpha * gamma) * k**alpha))
            k = alpha * gamma * k**alpha
        return math.fsum(terms)

    k = np.linspace(*p.s1_bounds, 9)
    dv = np.array([(value(x * (1 + 1e-5)) - value(x * (1 - 1e-5))) / (2e-5 * x) for x in k])
    assert np.allclose(dv, F / k, rtol=1e-8, atol=0)
    one = np.ones_like(k)
    c = p.closed_form(k, one)
    r_k, r_c, h = p.r_s1(k, one, c), p.r_a(k, one, c), p.h(k, one, c)
    assert np.allclose(r_k - r_c * h, F / k, rtol=8 * np.finfo(float).eps, atol=0)
    assert np.allclose(r_k + r_c * h, -F / k, rtol=8 * np.finfo(float).eps, atol=0)


@pytest.mark.parametrize("sigma_u", [2.0, 0.5])
def test_cake_eating_value_series_is_u_of_kappa_w_over_kappa(sigma_u):
    """euler.md:851 (solution of ex-envelope-cake): along ``c = kappa W`` the discounted
    utility is geometric with ratio ``gamma (R (1 - kappa))^(1 - sigma) = 1 - kappa``, so
    ``v*(W) = u(kappa W) / kappa``.

    Tolerance: 3,000 terms (ratio 1 - kappa, tail below 1e-40), each exact to a few ulp, summed
    with math.fsum: a few eps relative; assert 1e-13.
    """
    p = E.cake_eating(beta=0.95, R=1.02, sigma_u=sigma_u)
    kappa, R, gamma = p.info["kappa"], p.info["R"], p.beta
    ratio = gamma * (R * (1 - kappa)) ** (1 - sigma_u)  # two powers and two products: 16 eps
    assert np.isclose(ratio, 1 - kappa, rtol=16 * np.finfo(float).eps, atol=0)
    for w in np.linspace(0.5, 9.0, 7):
        series = math.fsum(
            gamma**t * p.r(w, 1.0, kappa * w * (R * (1 - kappa)) ** t) for t in range(3000)
        )
        assert np.isclose(series, p.r(w, 1.0, kappa * w) / kappa, rtol=1e-13, atol=0)


def lq_energy_storage(p, iterations=4000):
    """Exact optimum of energy storage (linear-quadratic with a 3-state price chain, unconstrained
    action): ``v_i(b) = x_i + y_i b + z_i b^2`` and ``a_i(b) = k_i + K_i b``, by value iteration on
    the coefficients (the Bellman maximisation of a quadratic is explicit). Independent of
    rlbook.euler's Chebyshev collocation."""
    price = np.asarray(p.process.values, dtype=float)
    Pm = np.asarray(p.process.P)
    eta, beta = p.info["eta"], p.beta
    cost, wear, target = 5.0, 2.0, 10.0  # energy_storage's defaults
    x, y, z = np.zeros(3), np.zeros(3), np.zeros(3)
    for _ in range(iterations):  # contraction at rate beta: beta^4000 ~ 1e-89
        X, Y, Z = Pm @ x, Pm @ y, Pm @ z
        den = cost - 2 * beta * Z  # > 0: the maximised function is concave in a
        k = (beta * Y - price) / den
        K = 2 * beta * Z * eta / den
        m = eta + K
        z = -cost / 2 * K**2 - wear / 2 + beta * m**2 * Z
        y = -price * K - cost * k * K + wear * target + beta * (m * Y + 2 * m * k * Z)
        x = -price * k - cost / 2 * k**2 - wear / 2 * target**2 + beta * (X + k * Y + k**2 * Z)
    return x, y, z, k, K


def test_envelope_formula_on_energy_storage_against_the_exact_lq_value():
    """euler.md:253-259: ``dv*/ds1 = dr/ds1 - dr/da * h`` at ``a = pi*(s1, s2)``, on energy storage
    (euler.md:637: ``b' = eta b + a``, ``h = eta``, price ``s2`` a finite chain), with a stochastic
    exogenous state.

    ``v*`` and ``pi*`` come from the exact linear-quadratic solution (:func:`lq_energy_storage`);
    ``dv*/db = y_i + 2 z_i b`` exactly. The right side uses rlbook.euler.energy_storage's
    primitives ``r_s1``, ``r_a``, ``h`` at that policy. rlbook's collocation policy (degree 1) is
    checked to be that policy.

    Tolerance: both sides are float64 evaluations of O(1e2) numbers from coefficients that a
    beta-contraction fixes to a few ulp / (1 - beta) = ~1e-14 relative; 1e-10 relative to the size
    of the terms (|r_s1| + |r_a h|) leaves a wide margin. The collocation policy is compared at
    1e-8 relative to the action scale: its Euler residual is below 1e-10 (asserted), and the
    residual's derivative in ``a`` is of order ``cost = 5``.
    """
    p = E.energy_storage()
    x, y, z, k, K = lq_energy_storage(p)
    b = np.linspace(0.0, 20.0, 21)
    for i in range(3):
        s2 = np.full_like(b, i)
        a = k[i] + K[i] * b
        dv = y[i] + 2 * z[i] * b
        r_s1, r_a, h = p.r_s1(b, s2, a), p.r_a(b, s2, a), p.h(b, s2, a)
        scale = np.abs(r_s1) + np.abs(r_a * h)
        assert np.abs(dv - (r_s1 - r_a * h)).max() < 1e-10 * scale.max()
        assert np.abs(dv - (r_s1 + r_a * h)).max() > 1.0  # the source's sign is far off
    sol = E.solve_collocation(p, 1)
    for i in range(3):
        s2 = np.full_like(b, i)
        assert np.abs(E.euler_residual(p, sol.policy, sol.theta, b, s2)).max() < 1e-10
        a = k[i] + K[i] * b
        assert np.abs(sol(b, s2) - a).max() < 1e-8 * max(1.0, np.abs(a).max())


# --- SAC: the squashed Gaussian's density with the action scale ----------------------------------
def fixed_actor(mu, log_std, low, high):
    """A SquashedGaussianActor in float64 whose output is the constant ``(mu, log_std)``."""
    actor = SquashedGaussianActor(1, low, high, hidden=(4,)).double()
    last = actor.body[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([*mu, *log_std], dtype=torch.float64))
    return actor


def gauss_legendre(lo, hi, n, order=20):
    """Composite Gauss-Legendre rule with ``n`` nodes on ``[lo, hi]``: ``n / order`` equal panels,
    each with the ``order``-point rule. (numpy's ``leggauss`` is documented as tested only up to
    degree 100: its weights for thousands of nodes are not accurate to float64.)"""
    x, w = np.polynomial.legendre.leggauss(order)
    panels = n // order
    left = lo + (hi - lo) * np.arange(panels)[:, None] / panels
    half = (hi - lo) / (2 * panels)
    return (left + half * (x + 1)).ravel(), np.tile(w * half, panels)


ACTORS = [  # (mu, log_std, low, high): Pendulum's box [-2, 2], and a shifted narrow box
    ((0.3,), (math.log(0.6),), (-2.0,), (2.0,)),
    ((1.5,), (math.log(0.5),), (0.5,), (1.0,)),
]


@pytest.mark.parametrize("mu, log_std, low, high", ACTORS)
def test_squashed_gaussian_density_integrates_to_one_and_matches_bin_probabilities(
    mu, log_std, low, high
):
    """sac.md, "The squashed Gaussian that runs", the log-density display (and exercise ex-squashed-logp): for ``a = b + c tanh(u)``, ``u ~ N(mu, sigma^2)``,

        log pi(a) = log N(u; mu, sigma^2) - sum_i [log(1 - tanh^2 u_i) + log c_i].

    rlbook.networks.SquashedGaussianActor.log_prob at actions in the box, integrated by
    Gauss-Legendre quadrature: (1) total probability 1; (2) the probability of each of 12 bins
    equals the exact ``Phi((atanh((a_hi - b)/c) - mu)/sigma) - Phi(...)`` of the change of
    variables (no density involved); without the ``log c`` term the total would be ``c``.

    Tolerance: the quadrature error, estimated as the change from n to 2n nodes (asserted small,
    so the rule has converged), plus 1e-13 for float64 rounding of the sum (a few ulp times the
    number of nodes, times densities O(1) on boxes of width <= 4). Bins of the first box have
    smooth integrands; the edges of the box, where the density vanishes faster than any power of
    the distance, need the most nodes.
    """
    actor = fixed_actor(mu, log_std, low, high)
    lo, hi = low[0], high[0]
    c, b = (hi - lo) / 2, (hi + lo) / 2
    sigma = math.exp(log_std[0])

    def integral(a_lo, a_hi, n):
        x, w = gauss_legendre(a_lo, a_hi, n)
        obs = torch.zeros(n, 1, dtype=torch.float64)
        with torch.no_grad():
            logp = actor.log_prob(obs, torch.as_tensor(x[:, None]))
        return float((w * np.exp(logp.numpy())).sum()), logp.numpy(), x

    total1, _, _ = integral(lo, hi, 2000)
    total2, logp, x = integral(lo, hi, 4000)
    quad_err = abs(total2 - total1)
    assert quad_err < 1e-9
    assert abs(total2 - 1) <= quad_err + 1e-13
    # without the log c term the density would integrate to c (2 and 0.25 here), not to 1
    assert abs(c * total2 - 1) > 0.5
    # the log-density display of sac.md's squashed-Gaussian section written out, at the nodes: the package's log_prob is it
    u = np.arctanh((x - b) / c)
    formula = scipy.stats.norm.logpdf(u, mu[0], sigma) - (
        np.log1p(-(np.tanh(u) ** 2)) + math.log(c)
    )
    inner = np.abs((x - b) / c) < 0.999  # atanh is ill-conditioned at the edges
    assert np.allclose(logp[inner], formula[inner], rtol=0, atol=1e-9)
    edges = np.linspace(lo, hi, 13)
    cdf = scipy.stats.norm.cdf((np.arctanh((edges[1:-1] - b) / c) - mu[0]) / sigma)
    exact = np.diff(np.concatenate([[0.0], cdf, [1.0]]))  # P(u < atanh((a - b)/c)), a in the box
    for j in range(12):
        p1 = integral(edges[j], edges[j + 1], 400)[0]
        p2 = integral(edges[j], edges[j + 1], 800)[0]
        assert abs(p2 - exact[j]) <= abs(p2 - p1) + 1e-13, (j, p2, exact[j])


@pytest.mark.parametrize("mu, log_std, low, high", ACTORS)
def test_squashed_gaussian_samples_follow_the_density(mu, log_std, low, high):
    """sac.md, "The squashed Gaussian that runs": the actor's samples ``a = b + c tanh(u)`` fall in each of 16 bins of the box
    with the probability that the section's log-density display gives (integrated by quadrature).

    Tolerance: bin counts are binomial(n, p_k); each z-score ``(n_k - n p_k) / sqrt(n p_k (1-p_k))``
    must be below 5 in absolute value (fixed seed; 16 bins, so a correct sampler fails with
    probability < 1e-5). The quadrature error of p_k (< 1e-12, previous test) is negligible.
    """
    actor = fixed_actor(mu, log_std, low, high)
    n = 200_000
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        a, logp = actor.sample(torch.zeros(n, 1, dtype=torch.float64), gen)
        assert np.allclose(
            logp.numpy(),
            actor.log_prob(torch.zeros(n, 1, dtype=torch.float64), a).numpy(),
            rtol=0,
            atol=1e-8,
        )  # the sample's log-density is the density's: log_prob inverts tanh, and atanh's
        # rounding, eps / (1 - tanh^2 u), times d log pi / du (< 30) stays below 1e-10 for the
        # |u| < 5 that 200,000 draws reach here
    a = a.numpy()[:, 0]
    edges = np.linspace(low[0], high[0], 17)
    counts = np.histogram(a, edges)[0]
    assert counts.sum() == n  # every sample inside the box
    probs = []
    for j in range(16):
        x, w = gauss_legendre(edges[j], edges[j + 1], 400)
        with torch.no_grad():
            lp = actor.log_prob(
                torch.zeros(400, 1, dtype=torch.float64), torch.as_tensor(x[:, None])
            )
        probs.append(float((w * np.exp(lp.numpy())).sum()))
    probs = np.array(probs)
    z = (counts - n * probs) / np.sqrt(n * probs * (1 - probs))
    assert np.abs(z).max() < 5, z.round(2)


def test_squashed_gaussian_density_in_two_dimensions_with_two_scales():
    """sac.md, "The squashed Gaussian that runs", the log-density display with the sum over action dimensions and one ``log c_i`` per dimension: a box
    ``[-2, 2] x [0.5, 1]`` (c = 2 and 0.25); the density integrates to 1 over the box (product
    Gauss-Legendre rule). Dropping the ``log c_i`` terms would give ``c_1 c_2 = 0.5``.
    Tolerance: as in the one-dimensional test, the change from n to 2n nodes plus 1e-12.
    """
    actor = SquashedGaussianActor(1, (-2.0, 0.5), (2.0, 1.0), hidden=(4,)).double()
    with torch.no_grad():
        actor.body[-1].weight.zero_()
        actor.body[-1].bias.copy_(torch.tensor([0.3, -0.5, math.log(0.6), math.log(0.5)]))

    def total(n):
        x1, w1 = gauss_legendre(-2.0, 2.0, n)
        x2, w2 = gauss_legendre(0.5, 1.0, n)
        A = np.stack(np.meshgrid(x1, x2, indexing="ij"), -1).reshape(-1, 2)
        W = np.outer(w1, w2).ravel()
        with torch.no_grad():
            lp = actor.log_prob(torch.zeros(len(A), 1, dtype=torch.float64), torch.as_tensor(A))
        return float((W * np.exp(lp.numpy())).sum())

    t1, t2 = total(400), total(800)
    assert abs(t2 - t1) < 1e-8
    assert abs(t2 - 1) <= abs(t2 - t1) + 1e-12


# --- SAC: the KL divergence to the Boltzmann policy and the actor loss --------------------------
def test_kl_to_boltzmann_reduces_to_the_sac_actor_loss():
    """sac.md, "Learning the Policy: Matching the Boltzmann Distribution": ``KL(pi || exp(q/alpha)/Z) = E_pi[log pi - q/alpha] + log Z`` with
    ``Z = int_A exp(q(a)/alpha) da``, so the SAC actor loss ``E_pi[alpha log pi - q]`` (the loss without Z there,
    line 5.13) equals ``alpha KL - alpha log Z``: minimising it over the policy minimises the KL,
    since ``log Z`` does not depend on the policy; its minimum, at the Boltzmann policy, is
    ``-alpha log Z = -v(s)`` (exercise ex-sac-kl).

    One state, a 1-D action in Pendulum's box [-2, 2], a known q, alpha = 0.5, three squashed
    Gaussian policies. Both sides by Gauss-Legendre quadrature (KL from its definition, with the
    normalised Boltzmann density); rlbook.sac.actor_loss (a Monte Carlo estimate with the twin
    minimum) against ``alpha KL - alpha log Z``.

    Tolerances: in the quadrature sums the identity is exact up to ``alpha log Z`` times the
    quadrature error of ``int pi = 1`` (< 1e-9, previous tests) plus float64 rounding (1e-12);
    the Monte Carlo loss within 5 standard errors of the mean (sample std / sqrt(n), n = 200,000).
    """
    alpha = 0.5

    def q_np(a):
        return -((a - 0.7) ** 2) + 0.3 * np.cos(3 * a)

    def q_twin(obs, act):  # (2, batch) like QEnsemble; the minimum is q_np
        q = -((act[:, 0] - 0.7) ** 2) + 0.3 * torch.cos(3 * act[:, 0])
        return torch.stack([q, q + 1.0])

    x, w = gauss_legendre(-2.0, 2.0, 4000)
    log_Z = math.log(float((w * np.exp(q_np(x) / alpha)).sum()))
    log_boltzmann = q_np(x) / alpha - log_Z
    assert abs(float((w * np.exp(log_boltzmann)).sum()) - 1) < 1e-12
    losses, kls = [], []
    for k, (mu, log_std) in enumerate([(0.3, math.log(0.6)), (0.0, 0.0), (1.0, math.log(0.2))]):
        actor = fixed_actor((mu,), (log_std,), (-2.0,), (2.0,))
        with torch.no_grad():
            logp = actor.log_prob(
                torch.zeros(len(x), 1, dtype=torch.float64), torch.as_tensor(x[:, None])
            ).numpy()
        p = np.exp(logp)
        mass = float((w * p).sum())
        kl = float((w * p * (logp - log_boltzmann)).sum())
        loss = float((w * p * (alpha * logp - q_np(x))).sum())
        assert kl > 0  # none of these is the Boltzmann policy
        tol = abs(alpha * log_Z) * abs(mass - 1) + 1e-12
        assert abs(loss - (alpha * kl - alpha * log_Z)) < tol
        assert loss > -alpha * log_Z  # the minimum -alpha log Z is reached only at Boltzmann
        losses.append(loss)
        kls.append(kl)
        # rlbook.sac.actor_loss, by Monte Carlo, estimates the same number
        n = 200_000
        obs = torch.zeros(n, 1, dtype=torch.float64)
        with torch.no_grad():
            mc, _ = S.actor_loss(q_twin, actor, obs, alpha, torch.Generator().manual_seed(k))
            act, lp = actor.sample(obs, torch.Generator().manual_seed(k))  # the same draws
            per_sample = (alpha * lp - q_twin(obs, act).min(0).values).numpy()
        assert abs(float(mc) - per_sample.mean()) < 1e-12  # float64 means of O(1) numbers
        se = per_sample.std(ddof=1) / math.sqrt(n)
        assert abs(float(mc) - loss) < 5 * se
    # differences of the loss between policies are alpha times differences of the KL
    assert np.allclose(np.diff(losses), alpha * np.diff(kls), rtol=0, atol=1e-9)


# --- SAC: the temperature loss and its gradient --------------------------------------------------
@pytest.mark.parametrize("entropy_gap", [+1.0, -1.0])
def test_alpha_loss_gradient_and_the_direction_alpha_moves(entropy_gap):
    """sac.md, "Tuning the temperature: a constrained problem and its dual" (paragraph "What SAC
    computes") and rlbook.sac.alpha_loss: the code minimises
    ``L(log alpha) = -log alpha * mean(log pi(a|s) + H_target)``, the log-alpha parametrisation of
    the second SAC paper's ``J(alpha) = E[-alpha (log pi + H_target)]`` (the display of J there), whose gradient is

        dL/d log alpha = -mean(log pi + H_target) = H_hat - H_target,   H_hat = -mean(log pi),

    and ``dJ/d log alpha = alpha dJ/d alpha = -alpha mean(log pi + H_target)`` has the same sign.
    So a gradient step raises alpha when the entropy estimate is below the target and lowers it
    when above. Checked against torch autograd and a central finite difference; ``log pi`` is
    detached (no gradient reaches the policy).

    Tolerances: autograd of a mean of 1,000 float64 products: a few ulp of |mean| (1e-14; 1e-12
    asserted); the loss is linear in log alpha, so the finite difference with h = 1e-4 has no
    truncation error, only rounding eps |L| / h ~ 1e-12 (1e-10 asserted).
    """
    target = -1.0
    rng = np.random.default_rng(0)
    # log-densities whose entropy estimate is target - entropy_gap
    logp = torch.as_tensor(rng.normal(size=1000), dtype=torch.float64)
    logp = logp - logp.mean() + (-target + entropy_gap)  # H_hat = target - entropy_gap
    logp.requires_grad_(True)
    h_hat = -float(logp.detach().mean())
    log_alpha = torch.tensor(math.log(0.3), dtype=torch.float64, requires_grad=True)
    loss = S.alpha_loss(log_alpha, logp, target)
    loss.backward()
    expected = h_hat - target
    assert abs(float(log_alpha.grad) - expected) < 1e-12
    assert logp.grad is None  # detached: the temperature loss does not train the policy
    h = 1e-4
    with torch.no_grad():
        fd = S.alpha_loss(log_alpha + h, logp, target) - S.alpha_loss(log_alpha - h, logp, target)
        fd = float(fd) / (2 * h)
    assert abs(fd - expected) < 1e-10
    # J(alpha) = E[-alpha (log pi + H_target)] has the same sign of derivative in log alpha
    alpha = math.exp(float(log_alpha.detach()))
    j_grad = -alpha * float((logp.detach() + target).mean())
    assert np.sign(j_grad) == np.sign(expected)
    # one SGD step: alpha rises iff the entropy is below the target (entropy_gap > 0)
    opt = torch.optim.SGD([log_alpha], lr=0.1)
    opt.step()
    moved = math.exp(float(log_alpha.detach())) - 0.3
    assert np.sign(moved) == np.sign(entropy_gap)


# --- SAC: the entropy term's gradient keeps the path through the sample and through mu, sigma ----
def test_actor_log_density_gradient_keeps_both_paths():
    """sac.md (after the reparameterised loss): ``log pi_phi(f_phi(s, eps) | s)`` depends on phi
    through the sample ``u = mu + sigma eps`` and through the density's ``mu, sigma``;
    rlbook.networks.SquashedGaussianActor.sample detaches neither, so autograd takes the total
    derivative. Written in eps, the same log-density is

        -|eps|^2 / 2 - sum log sigma - (m/2) log 2 pi - sum_i [log c_i + 2 (log 2 - u_i - softplus(-2 u_i))],

    whose gradient in the actor's parameters must equal the actor's; keeping the parameter path
    only (the sample detached) must not. Tolerance: float64, the same function by two formulas,
    rounding ~1e-14 relative to gradients of order 1 (1e-10 asserted); the one-path gradient differs
    by order 1 (> 1e-2 asserted).
    """
    from torch.nn import functional as F

    torch.manual_seed(0)
    actor = SquashedGaussianActor(3, (-2.0, 0.0), (2.0, 1.0), hidden=(8,)).double()
    obs = torch.randn(16, 3, dtype=torch.float64)
    params = list(actor.parameters())
    _, logp = actor.sample(obs, torch.Generator().manual_seed(1))
    total = torch.autograd.grad(logp.sum(), params)

    mu, log_std = actor.distribution_params(obs)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(1), dtype=mu.dtype)
    u = mu + log_std.exp() * eps  # the actor's sample: the same generator, the same draws
    log_c = actor.rescale.scale.double().log()
    closed = (
        -0.5 * eps**2
        - log_std
        - 0.5 * math.log(2 * math.pi)
        - log_c
        - 2 * (math.log(2) - u - F.softplus(-2 * u))
    ).sum(-1)
    assert torch.allclose(closed, logp, rtol=1e-12, atol=1e-12)
    by_eps = torch.autograd.grad(closed.sum(), params, retain_graph=True)
    for a, b in zip(total, by_eps, strict=True):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-10)

    parameters_only = actor.log_prob_from_pre_tanh(u.detach(), mu, log_std)
    one_path = torch.autograd.grad(parameters_only.sum(), params)
    assert max(float((a - b).abs().max()) for a, b in zip(total, one_path, strict=True)) > 1e-2


# --- SAC: the stable form of log(1 - tanh^2 u), and what forgetting log c_i changes -------------
def test_stable_log_det_of_tanh_matches_log_cosh_for_large_u():
    """sac.md, "The squashed Gaussian that runs": ``log(1 - tanh^2 u) = 2 (log 2 - u - softplus(-2u))``, the form
    rlbook.networks.SquashedGaussianActor uses, against ``-2 log cosh u`` written independently as
    ``2 log 2 - 2|u| - 2 log1p(exp(-2|u|))``, through the actor's ``log_prob_from_pre_tanh`` (so the
    Gaussian term and ``-sum log c_i`` are checked with it), for |u| up to 60, where the naive
    ``log(1 - tanh(u)^2)`` is ``-inf`` (beyond |u| ~ 19 in float64, ~ 9 in float32).

    Tolerances: float64, a few ulp of the largest term (|log pi| < 130 here): 1e-12 absolute;
    float32, the same computation at eps = 1.2e-7, relative 1e-5 of the largest term.
    """
    mu, log_std, c = 0.4, math.log(1.5), 2.0
    u = np.array([-60.0, -25.0, -9.5, -3.0, 0.0, 0.7, 4.0, 9.5, 25.0, 60.0])
    log_det = 2 * math.log(2) - 2 * np.abs(u) - 2 * np.log1p(np.exp(-2 * np.abs(u)))
    expected = scipy.stats.norm.logpdf(u, mu, math.exp(log_std)) - log_det - math.log(c)
    for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5 * np.abs(expected).max())):
        actor = SquashedGaussianActor(1, (-c,), (c,), hidden=(4,)).to(dtype)
        got = actor.log_prob_from_pre_tanh(
            torch.as_tensor(u[:, None], dtype=dtype),
            torch.full((len(u), 1), mu, dtype=dtype),
            torch.full((len(u), 1), log_std, dtype=dtype),
        )
        assert torch.isfinite(got).all()
        assert np.abs(got.double().numpy() - expected).max() < tol
    with np.errstate(divide="ignore"):
        naive = np.log(1 - np.tanh(u) ** 2)
    assert np.isneginf(naive[np.abs(u) > 20]).all()  # what the stable form avoids


def test_forgetting_log_c_shifts_the_entropy_by_sum_log_c():
    """sac.md, "With or without the log c_i term" (automatic tuning): without ``-sum_i log c_i`` the log-density is ``log pi + k`` with
    ``k = sum_i log c_i``; equivalently it is the log-density of ``tanh(u)`` in the unit box, since
    the map ``x -> a_bar + c x`` adds ``sum_i log c_i`` to every differential entropy. Checked on
    rlbook's actor: for the same pre-tanh sample ``u``, the log-density of the action in the box
    ``[-2, 2] x [0.5, 1]`` (c = 2, 0.25) is the unit box's minus ``log 2 + log 0.25``, sample by
    sample; so the entropy estimates that the temperature loss sees differ by ``k = log 0.5``.
    Tolerance: float64 sums of O(10) terms, 1e-13.
    """
    mu = torch.tensor([[0.3, -0.5]], dtype=torch.float64).expand(1000, 2)
    log_std = torch.tensor([[math.log(0.6), math.log(0.5)]], dtype=torch.float64).expand(1000, 2)
    u = mu + log_std.exp() * torch.randn(
        1000, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    box = SquashedGaussianActor(1, (-2.0, 0.5), (2.0, 1.0), hidden=(4,)).double()
    unit = SquashedGaussianActor(1, (-1.0, -1.0), (1.0, 1.0), hidden=(4,)).double()
    k = math.log(2.0) + math.log(0.25)
    lp_box = box.log_prob_from_pre_tanh(u, mu, log_std)
    lp_unit = unit.log_prob_from_pre_tanh(u, mu, log_std)
    assert torch.allclose(lp_unit - lp_box, torch.full_like(lp_box, k), rtol=0, atol=1e-13)
    assert abs(float(-lp_box.mean()) - (float(-lp_unit.mean()) + k)) < 1e-13


def soft_q_evaluation(P, r, pi, log_pi, gamma, alpha, done):
    """``q^pi`` of the entropy-regularised problem with ``log pi`` given (possibly shifted): the
    linear solve of ``q(s,a) = r(s,a) + gamma (1 - done(s,a)) sum_s' P(s'|s,a) sum_a' pi(a'|s')
    (q(s',a') - alpha log_pi(a'|s'))``, with states x actions flattened."""
    n_s, n_a = pi.shape
    M = np.einsum("sat,tb->satb", P, pi).reshape(n_s * n_a, n_s * n_a)
    M = (1 - done.reshape(-1, 1)) * M
    rhs = r.reshape(-1) - gamma * alpha * M @ log_pi.reshape(-1)
    return np.linalg.solve(np.eye(n_s * n_a) - gamma * M, rhs).reshape(n_s, n_a)


def test_forgetting_log_c_with_fixed_alpha_shifts_every_q_by_one_constant():
    """sac.md, "With or without the log c_i term": with a fixed alpha, the targets shifted by ``-gamma alpha k`` make the
    soft q of every policy ``q - gamma alpha k / (1 - gamma)``, one constant, when no transition
    terminates, so the soft-greedy policy ``exp(q/alpha)/Z`` is unchanged; with terminations the
    shift differs between state-action pairs and the soft-greedy policy changes. A random MDP
    (6 states, 3 actions, stochastic transitions) and a random policy, by linear solves.
    Tolerance: the solve's condition number (1 + gamma)/(1 - gamma) = 39 times a few ulp of
    |q| < 100: 1e-10.
    """
    rng = np.random.default_rng(5)
    n_s, n_a, gamma, alpha, k = 6, 3, 0.95, 0.3, math.log(2.0)
    P = rng.dirichlet(np.ones(n_s), size=(n_s, n_a))
    r = rng.normal(size=(n_s, n_a))
    pi = rng.dirichlet(np.ones(n_a), size=n_s)
    log_pi = np.log(pi)

    def soft_greedy(q):
        z = np.exp((q - q.max(1, keepdims=True)) / alpha)
        return z / z.sum(1, keepdims=True)

    never = np.zeros((n_s, n_a))
    q0 = soft_q_evaluation(P, r, pi, log_pi, gamma, alpha, never)
    qk = soft_q_evaluation(P, r, pi, log_pi + k, gamma, alpha, never)
    assert np.abs(qk - q0 + gamma * alpha * k / (1 - gamma)).max() < 1e-10
    assert np.abs(soft_greedy(qk) - soft_greedy(q0)).max() < 1e-12
    done = (rng.random((n_s, n_a)) < 0.3).astype(float)  # some transitions terminate
    q0 = soft_q_evaluation(P, r, pi, log_pi, gamma, alpha, done)
    qk = soft_q_evaluation(P, r, pi, log_pi + k, gamma, alpha, done)
    shift = qk - q0
    assert shift.max() - shift.min() > 0.1  # no longer one constant
    assert np.abs(soft_greedy(qk) - soft_greedy(q0)).max() > 1e-3


# --- SAC: the dual function of the temperature -----------------------------------------------------
def test_dual_function_slope_is_the_entropy_gap_and_bounds_every_feasible_policy():
    """sac.md, "Tuning the temperature: a constrained problem and its dual" (paragraph "The dual
    step"; and exercise ex-sac-dual-slope): for one state with critic ``q`` on the box [-2, 2], the dual function
    ``g(alpha) = max_pi L(pi, alpha) = alpha log Z_alpha - alpha H_target`` has
    ``g'(alpha) = H(pi_alpha) - H_target`` and ``g''(alpha) = Var_{pi_alpha}(q) / alpha^3``, and every
    ``g(alpha)`` is at least ``E_pi[q]`` for every policy meeting the constraint (weak duality):
    here squashed Gaussian policies of rlbook whose entropy is at least the target.

    ``Z``, the entropy and the variance by Gauss-Legendre quadrature (4,000 nodes); the derivatives
    by central differences with step d = 1e-3 alpha. The identities hold exactly for the quadrature
    sums (a discrete distribution with weights w), so only the differences err: truncation
    d^2 |g'''| / 6 < 1e-6 and rounding eps |g| / d^2 < 1e-7 relative to g'' here; asserted 2e-6
    (slope) and 1e-4 relative (curvature).
    """
    target = -1.0
    x, w = gauss_legendre(-2.0, 2.0, 4000)
    q = -((x - 0.7) ** 2) + 0.3 * np.cos(3 * x)

    def boltzmann(alpha):
        z = q / alpha
        log_Z = z.max() + math.log(float((w * np.exp(z - z.max())).sum()))
        p = np.exp(z - log_Z)
        mean_q = float((w * p * q).sum())
        return log_Z, float(-(w * p * (z - log_Z)).sum()), float((w * p * (q - mean_q) ** 2).sum())

    def g(alpha):
        return alpha * boltzmann(alpha)[0] - alpha * target

    for alpha in (0.03, 0.2, 1.0, 5.0):
        _, entropy, var_q = boltzmann(alpha)
        d = 1e-3 * alpha
        slope = (g(alpha + d) - g(alpha - d)) / (2 * d)
        assert abs(slope - (entropy - target)) < 2e-6
        curvature = (g(alpha + d) - 2 * g(alpha) + g(alpha - d)) / d**2
        assert abs(curvature * alpha**3 / var_q - 1) < 1e-4
    for mu, log_std in [(0.3, math.log(0.6)), (0.7, math.log(0.2)), (-1.0, 0.0)]:
        actor = fixed_actor((mu,), (log_std,), (-2.0,), (2.0,))
        with torch.no_grad():
            logp = actor.log_prob(
                torch.zeros(len(x), 1, dtype=torch.float64), torch.as_tensor(x[:, None])
            ).numpy()
        p = np.exp(logp)
        entropy, value = float(-(w * p * logp).sum()), float((w * p * q).sum())
        assert entropy >= target  # a feasible policy
        for alpha in (0.03, 0.2, 1.0, 5.0):
            assert g(alpha) >= value  # weak duality


# --- DDPG: the discretised Ornstein-Uhlenbeck process --------------------------------------------
@pytest.mark.parametrize("theta, dt", [(10.0, 0.05), (30.0, 0.05)])
def test_ou_stationary_variance_and_autocorrelation_of_the_discrete_recursion(theta, dt):
    """ddpg.md:73: ``eta_{t+1} = eta_t + theta (mu - eta_t) dt + sigma sqrt(dt) eps_t``, i.e. an
    AR(1) ``eta_{t+1} - mu = rho (eta_t - mu) + sigma sqrt(dt) eps_t`` with ``rho = 1 - theta dt``.
    Its exact stationary law has

        variance  sigma^2 dt / (1 - rho^2) = sigma^2 / (2 theta - theta^2 dt),
        lag-k autocorrelation  rho^k = (1 - theta dt)^k          (ddpg.md:88-89),

    whereas the SDE it discretises has ``sigma^2 / (2 theta)`` and ``exp(-theta k dt)``: the two
    agree to first order in ``theta dt`` (the discrete variance is larger by the factor
    ``1 / (1 - theta dt / 2)``). rlbook.noise.ou_stationary_std is the discrete formula. Here
    ``theta dt`` = 0.5 and 1.5 (where rho < 0: the discrete noise alternates in sign, which the
    SDE never does), so simulation tells the two apart; at the book's theta dt = 0.0015 they
    differ by 0.075% (the factor 1 / (1 - 0.00075)).

    Simulation: 100,000 independent chains of rlbook.noise.OrnsteinUhlenbeckNoise from x0 = mu,
    100 steps of burn-in (|rho|^200 < 1e-60). Estimators with the known mean mu: the variance
    ``mean (x - mu)^2`` at one time (standard error ``var sqrt(2/n)``), and the lag-k
    autocorrelation ``mean (x_t - mu)(x_{t+k} - mu) / var`` (standard error
    ``sqrt((1 + rho_k^2) / n)`` for a Gaussian pair). Each within 5 standard errors of the
    discrete value, and more than 5 from the continuous-time value (the SDE values are at least
    30 standard errors from the discrete ones for the variance and lags 1-2).
    """
    sigma, mu, n = 0.3, 0.2, 100_000
    noise = OrnsteinUhlenbeckNoise(n, theta=theta, sigma=sigma, mu=mu, dt=dt, seed=7)
    rho = 1 - theta * dt
    var_discrete = sigma**2 * dt / (1 - rho**2)
    var_sde = sigma**2 / (2 * theta)
    assert ou_stationary_std(theta, sigma, dt) == pytest.approx(math.sqrt(var_discrete), rel=1e-15)
    assert var_discrete == pytest.approx(sigma**2 / (2 * theta - theta**2 * dt), rel=1e-14)
    for _ in range(100):
        noise()
    lags = (1, 2, 3, 5)
    x = np.stack([noise() for _ in range(max(lags) + 1)])  # (time, chain)
    var_hat = ((x[0] - mu) ** 2).mean()
    se_var = var_discrete * math.sqrt(2 / n)
    assert abs(var_hat - var_discrete) < 5 * se_var
    assert abs(var_hat - var_sde) > 5 * se_var
    for k in lags:
        r_k = ((x[0] - mu) * (x[k] - mu)).mean() / var_discrete
        se = math.sqrt((1 + rho ** (2 * k)) / n)
        assert abs(r_k - rho**k) < 5 * se, (k, r_k, rho**k)
        if k <= 2:  # where the SDE's exp(-theta k dt) is far enough to be told apart
            assert abs(r_k - math.exp(-theta * k * dt)) > 5 * se, (k, r_k)


def test_ou_from_a_reset_does_not_reach_its_stationary_spread_in_an_episode():
    """ddpg.md:88-94: with the book's theta = 0.15, dt = 0.01 and a reset to mu at every episode,
    after t steps the variance is ``sigma^2 dt (1 - rho^(2t)) / (1 - rho^2)`` (the partial sum of
    the AR(1) recursion), which after a 200-step episode is only ``1 - rho^400 = 45%`` of the
    stationary variance. And the discrete and SDE stationary variances differ by the factor
    ``1/(1 - theta dt/2)``, 1.00075 here. Simulation tolerance: 5 standard errors
    (``var sqrt(2/n)``, n = 50,000 chains).
    """
    theta, sigma, dt, n = 0.15, 0.2, 0.01, 50_000
    noise = OrnsteinUhlenbeckNoise(n, theta=theta, sigma=sigma, dt=dt, seed=3)
    for _ in range(200):
        x = noise()
    rho = 1 - theta * dt
    var_200 = sigma**2 * dt * (1 - rho**400) / (1 - rho**2)
    assert var_200 / ou_stationary_std(theta, sigma, dt) ** 2 == pytest.approx(1 - rho**400)
    assert 0.44 < 1 - rho**400 < 0.46
    assert abs((x**2).mean() - var_200) < 5 * var_200 * math.sqrt(2 / n)
    ratio = ou_stationary_std(theta, sigma, dt) ** 2 / (sigma**2 / (2 * theta))
    assert ratio == pytest.approx(1 / (1 - theta * dt / 2), rel=1e-14)


# --- DDPG: the deterministic policy gradient, the actor loss, the EMA's lag ----------------------
def test_deterministic_policy_gradient_theorem_on_a_linear_quadratic_problem():
    """ddpg.md:163: ``grad_w J = E_{s ~ rho^pi}[grad_w pi_w(s)^T grad_a q^pi(s, a)|_{a=pi_w(s)}]``
    with ``rho^pi = sum_t gamma^t p_t``, on a problem where every term has a closed form: linear
    dynamics ``s' = A s + B a``, reward ``-s^T Q s - a^T R a``, a linear policy ``a = W s`` and
    ``s_0 ~ N(0, Sigma_0)``. Then ``v^W(s) = -s^T P_W s`` with ``P_W`` the solution of a Lyapunov
    equation, ``J(W) = -tr(P_W Sigma_0)``,
    ``grad_a q^W(s, W s) = -2 (R W + gamma B^T P_W (A + B W)) s`` and
    ``sum_t gamma^t E[s_t s_t^T] = Sigma_rho``, another Lyapunov solution; the theorem reads
    ``grad_W J = -2 (R W + gamma B^T P_W (A + B W)) Sigma_rho``. The left side by central
    differences of ``J`` in each entry of ``W``. Weighting by the start distribution alone
    (``Sigma_0`` in place of ``Sigma_rho``, no derivative of the state distribution and no
    discounted visits) is far off.

    Tolerance: central differences with h = 1e-6 err by h^2 |J'''| / 6 (~1e-11 here) plus rounding
    eps |J| / h (~1e-9, |J| < 10); asserted 1e-6 relative to the largest entry.
    """
    from scipy.linalg import solve_discrete_lyapunov

    rng = np.random.default_rng(2)
    n, m, gamma = 3, 2, 0.95
    A = rng.normal(size=(n, n))
    A *= 0.9 / np.abs(np.linalg.eigvals(A)).max()
    B = rng.normal(size=(n, m))
    Q, R = np.eye(n), 0.5 * np.eye(m)
    L = rng.normal(size=(n, n))
    sigma_0 = L @ L.T / n + 0.1 * np.eye(n)
    W = 0.1 * rng.normal(size=(m, n))

    def value_matrix(W):
        closed = A + B @ W
        assert np.abs(np.linalg.eigvals(math.sqrt(gamma) * closed)).max() < 1  # finite values
        return solve_discrete_lyapunov(math.sqrt(gamma) * closed.T, Q + W.T @ R @ W)

    def J(W):
        return -np.trace(value_matrix(W) @ sigma_0)

    P_W = value_matrix(W)
    closed = A + B @ W
    sigma_rho = solve_discrete_lyapunov(math.sqrt(gamma) * closed, sigma_0)
    M = R @ W + gamma * B.T @ P_W @ closed
    theorem = -2 * M @ sigma_rho
    h = 1e-6
    numeric = np.zeros_like(W)
    for i in range(m):
        for j in range(n):
            E_ij = np.zeros_like(W)
            E_ij[i, j] = h
            numeric[i, j] = (J(W + E_ij) - J(W - E_ij)) / (2 * h)
    scale = np.abs(numeric).max()
    assert np.abs(theorem - numeric).max() < 1e-6 * scale
    assert np.abs(-2 * M @ sigma_0 - numeric).max() > 0.1 * scale


def test_ddpg_actor_loss_gradient_is_minus_the_chain_rule_of_line_6_9():
    """ddpg.md:276 (line 6.9 of the box): the gradient of rlbook.ddpg.actor_loss ``-(1/b) sum_i q(s_i, pi_w(s_i))`` with
    respect to the actor's parameters is minus line 6.9's
    ``(1/b) sum_i grad_w pi_w(s_i)^T grad_a q(s_i, a)|_{a = pi_w(s_i)}``, the Jacobians and action
    gradients computed separately (row by row, with the action detached), on rlbook's networks
    (a two-dimensional action box) in float64. Tolerance: the same products summed in another
    order, float64: 1e-12 relative to the largest entry.
    """
    from rlbook import ddpg

    torch.manual_seed(0)
    policy = DeterministicActor(3, (-2.0, -1.0), (2.0, 1.0), hidden=(8,)).double()
    q = QEnsemble(3, 2, hidden=(16,), n=1).double()
    params = list(policy.parameters())
    obs = torch.randn(5, 3, dtype=torch.float64)

    def flat(grads):
        return torch.cat([g.reshape(-1) for g in grads])

    autograd = flat(torch.autograd.grad(ddpg.actor_loss(q, policy, obs), params))
    chain = torch.zeros_like(autograd)
    for s in obs:
        a = policy(s[None]).detach().requires_grad_()
        (grad_a,) = torch.autograd.grad(q(s[None], a)[0, 0], a)
        jac = torch.stack(
            [flat(torch.autograd.grad(policy(s[None])[0, j], params)) for j in range(2)]
        )
        chain += jac.T @ grad_a[0] / len(obs)
    assert torch.allclose(autograd, -chain, rtol=0, atol=1e-12 * float(chain.abs().max()))


def test_ema_target_lags_by_its_mean_age_and_a_hard_copy_by_half_its_period():
    """ddpg.md:286-291: the EMA weights ``tau (1 - tau)^k`` have mean age ``(1 - tau)/tau``, so a
    target following online parameters that grow by 1 per update (a ramp) trails them by exactly
    that, once the start is forgotten; a hard copy every K updates trails by ``(K - 1)/2`` on
    average. rlbook.targets.ema_update and hard_update on a float64 parameter.
    Tolerance: 5,000 EMA steps of numbers below 5,000, each rounding ~ eps * 5,000: 1e-8; the
    start's weight (1 - tau)^5000 = e^-50 is negligible.
    """
    from rlbook.targets import ema_update, hard_update

    online = torch.nn.Linear(1, 1, bias=False).double()
    target = torch.nn.Linear(1, 1, bias=False).double()
    tau, K = 0.01, 100
    with torch.no_grad():
        target.weight.zero_()
        for t in range(1, 5001):
            online.weight.fill_(float(t))
            ema_update(target, online, tau)
    assert abs((5000 - float(target.weight.detach())) - (1 - tau) / tau) < 1e-8
    lags = []
    with torch.no_grad():
        for t in range(10 * K):
            online.weight.fill_(float(t))
            if t % K == 0:
                hard_update(target, online)
            lags.append(t - float(target.weight.detach()))
    assert np.mean(lags) == pytest.approx((K - 1) / 2, rel=1e-14)


# --- TD3: the twin minimum underestimates when the errors have mean zero ------------------------
def _mc_mean(x):
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x)))


def test_twin_minimum_underestimates_with_zero_mean_errors_of_any_dependence():
    """td3.md:66: with ``q^A = q* + eps^A``, ``q^B = q* + eps^B``, ``E[min(q^A, q^B)] <= q*``.

    What it needs is zero-mean errors (any dependence; independence is not needed): since
    ``min(x, y) = (x + y)/2 - |x - y|/2``,

        E[min(q^A, q^B)] = q* + (E eps^A + E eps^B)/2 - E|eps^A - eps^B| / 2  <=  q*,

    with equality iff ``eps^A = eps^B`` almost surely (identical errors: equality WITH noise).
    Exact values: independent N(0, s^2) errors give ``-s / sqrt(pi)``; correlated Gaussians with
    standard deviations s_A, s_B and correlation r give ``-sqrt((s_A^2 + s_B^2 - 2 r s_A s_B) / (2 pi))``;
    the dependent non-Gaussian pair ``eps^A = X``, ``eps^B = X^2 - 1`` is integrated in closed form.
    Monte Carlo (n = 1,000,000, fixed seed) within 5 standard errors of each exact value, and
    below zero by more than 5 standard errors except for identical errors, where the estimate is
    within 5 standard errors of 0.
    """
    rng = np.random.default_rng(0)
    n, q_star = 1_000_000, 3.0
    z1, z2 = rng.standard_normal(n), rng.standard_normal(n)
    r, s_a, s_b = 0.8, 1.0, 0.5
    lo, hi = (1 - math.sqrt(5)) / 2, (1 + math.sqrt(5)) / 2  # where x^2 - 1 = x
    phi = scipy.stats.norm.pdf
    cases = {
        "independent": (z1, z2, -1 / math.sqrt(math.pi)),
        "correlated": (
            s_a * z1,
            s_b * (r * z1 + math.sqrt(1 - r**2) * z2),
            -math.sqrt((s_a**2 + s_b**2 - 2 * r * s_a * s_b) / (2 * math.pi)),
        ),
        # min(x, x^2 - 1) = x^2 - 1 on (lo, hi), x outside; int (x^2 - 1) phi = -x phi and
        # int x phi = -phi give E = (lo - 1) phi(lo) + (1 - hi) phi(hi) = -0.600
        "dependent non-Gaussian": (z1, z1**2 - 1, (lo - 1) * phi(lo) + (1 - hi) * phi(hi)),
    }
    for name, (eps_a, eps_b, exact) in cases.items():
        assert abs(eps_a.mean()) < 5 * eps_a.std() / math.sqrt(n)  # zero-mean errors
        assert abs(eps_b.mean()) < 5 * eps_b.std() / math.sqrt(n)
        m, se = _mc_mean(np.minimum(q_star + eps_a, q_star + eps_b))
        assert abs(m - (q_star + exact)) < 5 * se, name
        assert m < q_star - 5 * se, name
        # the identity min = mean - |difference|/2, sample by sample
        # (float64: four roundings of numbers below 40 in magnitude, 4 * 40 * eps = 4e-14)
        split = (eps_a + eps_b) / 2 - np.abs(eps_a - eps_b) / 2
        assert np.abs(np.minimum(eps_a, eps_b) - split).max() < 4e-14
    # identical errors: noise, yet no underestimation
    m, se = _mc_mean(np.minimum(q_star + z1, q_star + z1))
    assert abs(m - q_star) < 5 * se


def test_twin_minimum_can_overestimate_when_errors_are_not_zero_mean():
    """Counter-example to td3.md:66 without zero-mean errors: independent errors N(0.5, 0.2^2) on
    both critics give ``E[min] = q* + 0.5 - 0.2/sqrt(pi) = q* + 0.387 > q*``. (One biased critic
    is not enough: ``E[min] <= min(E q^A, E q^B)`` always, so one zero-mean critic keeps
    ``E[min] <= q*``.) Monte Carlo within 5 standard errors (n = 1,000,000, fixed seed).
    """
    rng = np.random.default_rng(1)
    n, q_star, bias, s = 1_000_000, 3.0, 0.5, 0.2
    q_a = q_star + bias + s * rng.standard_normal(n)
    q_b = q_star + bias + s * rng.standard_normal(n)
    m, se = _mc_mean(np.minimum(q_a, q_b))
    exact = q_star + bias - s / math.sqrt(math.pi)
    assert abs(m - exact) < 5 * se
    assert m > q_star + 5 * se  # overestimation
    q_c = q_star + s * rng.standard_normal(n)  # a zero-mean critic with a biased one
    m, se = _mc_mean(np.minimum(q_a, q_c))
    assert m < q_star - 5 * se


# --- Smoothing: the soft maximum, its bounds, variational form and Gumbel reading ----------------
def test_log_sum_exp_bounds_variational_form_and_lipschitz():
    """smoothing.md:49-61 and :71: ``max x <= smax_alpha(x) <= max x + alpha log |A|``, with the
    upper bound an equality for equal values; ``smax_alpha(x) = max_pi sum pi x + alpha H(pi)``,
    attained by the Boltzmann ``pi* = exp((x - smax)/alpha)`` and by no other distribution; and
    ``|smax(x) - smax(y)| <= max |x - y|`` (1-Lipschitz in the sup norm, hence the contraction).

    scipy's logsumexp against the bounds; the variational value of the Boltzmann distribution, of
    1,000 random distributions, and of mixtures of pi* with another distribution, close to pi*.
    Tolerance: float64 on values of order 1 to 10, a few ulp (1e-15) times the number of terms:
    1e-12.
    """
    rng = np.random.default_rng(0)
    for alpha in (2.0, 0.5, 0.05):
        for n in (2, 7, 30):
            x = rng.normal(scale=3.0, size=n)
            smax = alpha * scipy.special.logsumexp(x / alpha)
            assert x.max() <= smax <= x.max() + alpha * math.log(n) + 1e-12  # < in exact arithmetic
            same = np.full(n, x[0])
            smax_same = alpha * scipy.special.logsumexp(same / alpha)
            assert smax_same == pytest.approx(x[0] + alpha * math.log(n), abs=1e-12)
            pi = np.exp((x - smax) / alpha)
            assert pi.sum() == pytest.approx(1.0, abs=1e-12)
            value = pi @ x - alpha * np.sum(pi * np.log(pi))
            assert value == pytest.approx(smax, abs=1e-12)
            others = rng.dirichlet(np.ones(n), size=1000)
            values = others @ x - alpha * (others * np.log(others)).sum(1)
            assert (values < smax).all()

            # and distributions close to pi*: mixtures (1 - t) pi* + t rho for small t
            rho = rng.dirichlet(np.ones(n))
            for t in (1e-3, 1e-2, 0.1, 0.5):
                mix = (1 - t) * pi + t * rho
                assert mix @ x - alpha * np.sum(mix * np.log(mix)) < smax
            y = x + rng.normal(size=n)
            smax_y = alpha * scipy.special.logsumexp(y / alpha)
            assert abs(smax - smax_y) <= np.abs(x - y).max() + 1e-12


def test_gumbel_shocks_turn_the_expected_maximum_into_the_log_sum_exp():
    """smoothing.md:86-91: with i.i.d. standard Gumbel ``G_a``,
    ``E[max_a (x_a + alpha G_a)] = smax_alpha(x) + alpha gamma_E``, and exactly ``smax_alpha(x)``
    with shocks centred to mean zero. Also: ``argmax_a (x_a + alpha G_a)`` is distributed as the
    Boltzmann policy (the Gumbel-max trick). Monte Carlo with n = 1,000,000 (fixed seed): the mean
    within 5 standard errors, each action's frequency within 5 binomial standard errors.
    """
    rng = np.random.default_rng(2)
    x, alpha, n = np.array([0.3, -0.5, 1.1, 0.9]), 0.4, 1_000_000
    shocked = x + alpha * rng.gumbel(size=(n, len(x)))
    top = shocked.max(1)
    smax = alpha * scipy.special.logsumexp(x / alpha)
    se = top.std() / math.sqrt(n)
    assert abs(top.mean() - (smax + alpha * np.euler_gamma)) < 5 * se
    centred = top - alpha * np.euler_gamma  # the same draws with mean-zero shocks
    assert abs(centred.mean() - smax) < 5 * se
    assert abs(top.mean() - smax) > 20 * se  # without centring, the constant is visible
    pi = scipy.special.softmax(x / alpha)
    freq = np.bincount(shocked.argmax(1), minlength=len(x)) / n
    assert (np.abs(freq - pi) < 5 * np.sqrt(pi * (1 - pi) / n)).all()


def _soft_value_iteration_stochastic(P, r, gamma, alpha, tol=1e-14):
    """``v*`` of the entropy-regularised problem with transition ``P[s, a, s']``."""
    v = np.zeros(r.shape[0])
    while True:
        q = r + gamma * P @ v
        v_new = alpha * scipy.special.logsumexp(q / alpha, axis=1)
        if np.abs(v_new - v).max() < tol:
            return v_new
        v = v_new


def test_smooth_bellman_operator_is_a_contraction_and_its_policy_is_optimal():
    """smoothing.md:67-84 on stochastic MDPs (the PCL tests above are deterministic):
    ``T_alpha`` is a gamma-contraction in the sup norm; its fixed point gives
    ``pi* = exp((q* - v*)/alpha)``, a distribution, which satisfies the soft Bellman equation
    ``v*(s) = E_{a~pi*}[r - alpha log pi* + gamma E_{s'} v*(s')]``; and ``v*`` is that policy's
    own soft value (a linear solve) and above the soft value of any other policy.

    Tolerances as ONE_STEP_TOL above: value iteration to 1e-14 in a gamma = 0.9 contraction puts
    v within 1e-13 of v*, and the linear solve adds cond(I - gamma P_pi) = 19 times a few ulp of
    |v| (< 40): 1e-11. The contraction ratio is compared with gamma + 1e-12 (float64 rounding).
    """
    rng = np.random.default_rng(4)
    gamma = 0.9
    for n_s, n_a, alpha in ((5, 3, 0.5), (8, 4, 0.05)):
        P = rng.dirichlet(np.ones(n_s), size=(n_s, n_a))
        r = rng.normal(size=(n_s, n_a))

        def T(q, P=P, r=r, alpha=alpha):
            return r + gamma * P @ (alpha * scipy.special.logsumexp(q / alpha, axis=1))

        for _ in range(50):
            q1, q2 = rng.normal(scale=5.0, size=(2, n_s, n_a))
            ratio = np.abs(T(q1) - T(q2)).max() / np.abs(q1 - q2).max()
            assert ratio <= gamma + 1e-12
        v = _soft_value_iteration_stochastic(P, r, gamma, alpha)
        q = r + gamma * P @ v
        pi = np.exp((q - v[:, None]) / alpha)
        assert np.abs(pi.sum(1) - 1).max() < 1e-11
        rhs = (pi * (r - alpha * np.log(pi) + gamma * (P @ v))).sum(1)
        assert np.abs(rhs - v).max() < 1e-11

        def soft_value(policy, P=P, r=r, alpha=alpha):
            P_pi = np.einsum("sa,sat->st", policy, P)
            r_pi = (policy * (r - alpha * np.log(policy))).sum(1)
            return np.linalg.solve(np.eye(len(r)) - gamma * P_pi, r_pi)

        assert np.abs(soft_value(pi / pi.sum(1, keepdims=True)) - v).max() < 1e-11
        for _ in range(20):
            other = rng.dirichlet(np.ones(n_a), size=n_s)
            assert (soft_value(other) <= v + 1e-11).all()


# --- Monte Carlo: the maximum of noisy estimates, the double and clipped estimators -------------
@pytest.mark.heavy
def test_max_of_noisy_estimates_decomposes_into_evaluation_bias_minus_selection_loss():
    """montecarlo.md:47-70 for independent N(mu_a, 1) estimates of ten actions (the chapter's
    cell): ``E[max] >= max mu`` (strict here); ``E[max] - max mu = E[eps_{a*}] - (max mu -
    E[mu(a*)])`` with both terms positive; the double estimator has mean ``E[mu(a*)] <= max mu``;
    the clipped one, at the same ``a*``, is at most the double estimator on every draw.

    The exact values come from one-dimensional quadrature (scipy.integrate.quad, absolute error
    below 1e-10): ``E[max] = int x d prod_a Phi(x - mu_a)`` and
    ``P(a* = a) = int phi(x - mu_a) prod_{b != a} Phi(x - mu_b) dx``. A simulation of 400,000
    draws agrees with them within 5 standard errors.
    """
    mu = np.linspace(0.0, 0.5, 10)
    Phi, phi = scipy.stats.norm.cdf, scipy.stats.norm.pdf

    def density_of(a):  # of the event {a* = a, max = x}, as a function of x
        return lambda x: phi(x - mu[a]) * np.prod(np.delete(Phi(x - mu), a))

    quad = scipy.integrate.quad
    p_sel = np.array([quad(density_of(a), -12, 14, epsabs=1e-12)[0] for a in range(10)])
    e_max = sum(
        quad(lambda x, a=a: x * density_of(a)(x), -12, 14, epsabs=1e-12)[0] for a in range(10)
    )
    e_mu_sel = p_sel @ mu
    e_eps_sel = e_max - e_mu_sel
    assert p_sel.sum() == pytest.approx(1.0, abs=1e-9)
    assert e_max > mu.max() + 1.0  # the chapter's "more than the whole spread"
    assert e_eps_sel > e_max - mu.max() > 0  # evaluation bias above the total bias
    assert mu.max() - e_mu_sel > 0  # a positive selection loss

    rng = np.random.default_rng(5)
    n = 400_000
    est1 = mu + rng.standard_normal((n, 10))
    est2 = mu + rng.standard_normal((n, 10))
    a_star = est1.argmax(1)
    rows = np.arange(n)
    single, double = est1.max(1), est2[rows, a_star]
    clipped = np.minimum(est1, est2)[rows, a_star]
    for sample, exact in ((single, e_max), (double, e_mu_sel), (mu[a_star], e_mu_sel)):
        assert abs(sample.mean() - exact) < 5 * sample.std() / math.sqrt(n)
    freq = np.bincount(a_star, minlength=10) / n
    assert (np.abs(freq - p_sel) < 5 * np.sqrt(p_sel * (1 - p_sel) / n)).all()
    assert (clipped <= double).all()
    assert clipped.mean() < double.mean() - 5 * (double - clipped).std() / math.sqrt(n)


def test_max_of_two_noisy_zeros_has_mean_sigma_over_sqrt_pi():
    """montecarlo.md, exercise ex-max-bias: ``E[max(X_1, X_2)] = sigma / sqrt(pi)`` for
    independent ``N(0, sigma^2)``; by quadrature of ``2 x phi(x) Phi(x)`` (the density of the
    maximum), to 1e-10, and by Monte Carlo within 5 standard errors (n = 1,000,000)."""
    exact = 1 / math.sqrt(math.pi)
    f = lambda x: 2 * x * scipy.stats.norm.pdf(x) * scipy.stats.norm.cdf(x)  # noqa: E731
    assert scipy.integrate.quad(f, -40, 40)[0] == pytest.approx(exact, abs=1e-10)
    rng = np.random.default_rng(6)
    for sigma in (0.5, 2.0):
        larger = (sigma * rng.standard_normal((1_000_000, 2))).max(1)
        assert abs(larger.mean() - sigma * exact) < 5 * larger.std() / 1000


# --- FQI with an inexact fit: the approximate value iteration bound -----------------------------
def test_fitted_q_iteration_error_bound_with_an_inexact_fit():
    """fqi.md:112-127: if every fit leaves ``||q_{n+1} - T q_n|| <= eps``, then
    ``||q_n - q*|| <= gamma^n ||q_0 - q*|| + eps (1 - gamma^n) / (1 - gamma)``. On random finite
    MDPs with fit errors of sup norm exactly eps (a random sign pattern, the worst case of the
    bound's proof), and with errors that always push the same way (q_{n+1} = T q_n + eps), for
    which the limit is exactly ``q* + eps / (1 - gamma)``. Tolerance: float64 on values below
    100, 1e-10."""
    rng = np.random.default_rng(7)
    gamma, eps = 0.8, 1e-3
    for _ in range(20):
        n_s, n_a = rng.integers(2, 7, size=2)
        P = rng.dirichlet(np.ones(n_s), size=(n_s, n_a))
        r = rng.normal(size=(n_s, n_a))
        q_star = np.zeros((n_s, n_a))
        for _ in range(400):  # gamma^400 ~ 1e-39: exact in float64
            q_star = r + gamma * P @ q_star.max(1)
        q = rng.normal(scale=3.0, size=(n_s, n_a))
        e0 = np.abs(q - q_star).max()
        for n in range(1, 60):
            q = r + gamma * P @ q.max(1) + eps * rng.choice([-1.0, 1.0], size=(n_s, n_a))
            bound = gamma**n * e0 + eps * (1 - gamma**n) / (1 - gamma)
            assert np.abs(q - q_star).max() <= bound + 1e-10
        q = q_star.copy()
        for _ in range(400):
            q = r + gamma * P @ q.max(1) + eps  # every fit errs upward by eps
        assert np.abs(q - q_star - eps / (1 - gamma)).max() < 1e-10  # the bound's floor, reached


# --- The LQR ground truth of the embedded-optimization and NFQCA chapters ------------------------
def test_lqr_quadratic_q_is_the_bellman_fixed_point_and_its_greedy_gain_is_riccati():
    """embedded_optimization.md:109-111 and nfqca.md (ex-greedy-quadratic): for the discounted
    LQR of the chapters (``LQREnv``, gamma = 0.5), ``q*(s, a) = -z' H z`` with ``z = (s, a)``
    satisfies ``q*(s, a) = r(s, a) + gamma max_a' q*(s', a')`` (the unconstrained max, a
    quadratic's, found by a linear solve), and the greedy gain ``H_aa^-1 H_as`` of this ``H`` is the
    Riccati gain ``K``; the maximizer lies inside the box [-5, 5] for states in [-1, 1]^2, so the
    bounds do not bind there. ``H`` is positive definite, so the book's ``QuadraticQ``
    (``H = L L'``) represents it. Tolerance: float64 on numbers of order 1 to 100, 1e-10 relative.
    """
    from rlbook.envs import LQREnv, lqr_solution

    env, gamma = LQREnv(max_action=5.0), 0.5
    sol = lqr_solution(env, gamma)
    H, n = sol.H, env.A.shape[0]
    H_ss, H_as, H_aa = H[:n, :n], H[n:, :n], H[n:, n:]
    assert np.linalg.eigvalsh(H).min() > 0
    assert np.allclose(np.linalg.solve(H_aa, H_as), sol.K, rtol=1e-10, atol=0)
    # the value of the greedy action: v*(s) = max_a q*(s, a) = -s' (H_ss - H_sa H_aa^-1 H_as) s
    assert np.allclose(H_ss - H_as.T @ np.linalg.solve(H_aa, H_as), sol.P, rtol=1e-10, atol=1e-12)
    rng = np.random.default_rng(8)
    s, a = rng.uniform(-1, 1, (200, n)), rng.uniform(-5, 5, (200, env.B.shape[1]))

    def q_star(s, a):
        z = np.concatenate([s, a], 1)
        return -np.einsum("bi,ij,bj->b", z, H, z)

    s_next = s @ env.A.T + a @ env.B.T
    a_next = -s_next @ sol.K.T  # the maximizer of the concave quadratic q*(s', .)
    reward = -(np.einsum("bi,ij,bj->b", s, env.Q, s) + np.einsum("bi,ij,bj->b", a, env.R, a))
    lhs, rhs = q_star(s, a), reward + gamma * q_star(s_next, a_next)
    assert np.abs(lhs - rhs).max() < 1e-10 * np.abs(lhs).max()
    grad_a = -2 * (s_next @ H_as.T + a_next @ H_aa)  # d q*(s', a') / d a' at the maximizer
    assert np.abs(grad_a).max() < 1e-10 * np.abs(H).max()
    assert np.abs(-s @ sol.K.T).max() < 5.0  # greedy actions of the chapters' states are inside


# --- NFQCA: the deterministic policy gradient is the chain rule ---------------------------------
def test_policy_gradient_through_the_critic_is_the_chain_rule():
    """nfqca.md:57 and :142: ``grad_w q(s, pi_w(s)) = grad_a q(s, a)|_{a = pi_w(s)} . grad_w pi_w(s)``:
    autograd through the composition against the explicit product of ``grad_a q`` (autograd on the
    critic alone, at a fixed action) and the Jacobian of the actor's output in its parameters
    (torch.func.jacrev), in float64, for a two-dimensional action. Tolerance 1e-12: both are
    float64 sums of a few dozen products of order 1."""
    torch.manual_seed(0)
    actor = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    critic = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    actor, critic = actor.double(), critic.double()
    s = torch.randn(4, 3, dtype=torch.float64)
    params = dict(actor.named_parameters())

    def q_of(state, action):
        return critic(torch.cat([state, action], -1)).sum()

    total = q_of(s, actor(s))  # sum over the batch of q(s, pi_w(s))
    auto = torch.autograd.grad(total, list(params.values()))
    a = actor(s).detach().requires_grad_(True)
    (dq_da,) = torch.autograd.grad(q_of(s, a), a)  # (4, 2)
    jac = torch.func.jacrev(lambda p: torch.func.functional_call(actor, p, (s,)))(
        {k: v.detach() for k, v in params.items()}
    )  # name -> (4, 2, *shape)
    for (name, _), g in zip(params.items(), auto, strict=True):
        chain = torch.einsum("bm,bm...->...", dq_da, jac[name])
        assert torch.allclose(g, chain, rtol=0, atol=1e-12)


# --- ex-beyond: averaging, climbing and mode-seeking on a two-mode Boltzmann target ----------------
@pytest.mark.heavy
def test_regression_averages_modes_gradient_ascent_and_reverse_kl_pick_one():
    """summary.md, ex-beyond, on ``q(a) = alpha log p(a)`` with ``p`` the two-mode mixture
    0.6 N(-1, 0.3^2) + 0.4 N(1, 0.3^2) (so the Boltzmann policy at temperature alpha is ``p``):

    - averaging (regression onto the maximizers of nearby states, here the moment-matching fit that
      minimizes the forward KL ``KL(p || N)``) puts the mean at ``E_p[a] = -0.2``, in the valley,
      where ``p`` is below a tenth of its value at either mode;
    - gradient ascent on ``q`` from a = 0.5 climbs to the lower mode near +1, a local maximum;
    - the Gaussian that minimizes the reverse KL ``KL(N || p)`` (SAC's objective) from a start at
      +0.5 sits on that same mode with a width close to the component's 0.3 (mode-seeking), and
      from -0.5 on the other mode; the second is the better fit (lower KL).

    The expectations under N are Gauss-Hermite sums with 80 nodes (exact to float64 for the
    smooth log p here); the optimizer stops at gradient norm 1e-8; the bounds asserted are wide.
    """
    alpha = 0.7
    w, m, sd = np.array([0.6, 0.4]), np.array([-1.0, 1.0]), 0.3

    def log_p(a):
        comps = np.log(w) + scipy.stats.norm.logpdf(np.asarray(a)[..., None], m, sd)
        return scipy.special.logsumexp(comps, axis=-1)

    def q(a):
        return alpha * log_p(a)

    mean_p = w @ m
    assert mean_p == pytest.approx(-0.2)
    assert np.exp(log_p(mean_p)) < 0.1 * min(np.exp(log_p(-1.0)), np.exp(log_p(1.0)))
    a = 0.5  # gradient ascent on q, by central differences, with a small step
    for _ in range(2000):
        a += 0.01 * (q(a + 1e-6) - q(a - 1e-6)) / 2e-6
    assert abs(a - 1.0) < 0.05 and q(a) < q(-1.0)  # the lower of the two maxima
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    weights = weights / weights.sum()

    def reverse_kl(theta):  # KL(N(mu, sigma^2) || p) = -H(N) - E_N[log p]
        mu, log_sigma = theta
        sigma = math.exp(log_sigma)
        entropy = 0.5 * math.log(2 * math.pi * math.e * sigma**2)
        return -entropy - weights @ log_p(mu + sigma * nodes)

    fits = {
        start: scipy.optimize.minimize(reverse_kl, [start, math.log(0.5)], method="BFGS")
        for start in (0.5, -0.5)
    }
    right, left = fits[0.5], fits[-0.5]
    assert abs(right.x[0] - 1.0) < 0.05 and 0.25 < math.exp(right.x[1]) < 0.35
    assert abs(left.x[0] + 1.0) < 0.05 and 0.25 < math.exp(left.x[1]) < 0.35
    assert left.fun < right.fun
