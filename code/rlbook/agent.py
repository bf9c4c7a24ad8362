"""What DQN, DDPG, TD3 and SAC share: the common config fields, the agent scaffolding, ``train``.

Each algorithm module defines a frozen ``Config`` (a subclass of :class:`OffPolicyConfig`), pure
loss functions, and an agent class with an ``update`` method that follows its pseudocode. This
module holds everything else, written once.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from .buffer import MemberReplayBuffers, ReplayBuffer
from .configdoc import documented
from .envs import check_box_env, env_factory, flat_dim
from .loop import (
    Result,
    ResumeState,
    SeedResults,
    resolve_device,
    run_members,
    run_off_policy,
    seed_everything,
    seeded_torch,
)
from .networks import member_module, stack_members
from .validation import check_choice, check_device, check_int, check_real, check_sizes

__all__ = [
    "AGENTS",
    "OffPolicyAgent",
    "OffPolicyConfig",
    "adam",
    "bf16_native",
    "critic_loss",
    "gradient_step",
    "resolve_precision",
    "train_agent",
]

from .precision import PRECISIONS, bf16_native, resolve_precision  # noqa: F401 - re-exported


def critic_loss(q, y: torch.Tensor, batch) -> torch.Tensor:
    """The critics' regression, shared by DDPG (line 6.8), TD3 (5.10-5.11) and SAC (5.9-5.10).

    ``sum_j mean_i (q_j(s_i, a_i) - y_i)^2``: the mean over the batch of each critic's squared
    error, summed over the critics (one for DDPG, two for TD3 and SAC), so that each critic's
    gradient is that of its own mean squared error, whatever the number of critics. In a batch of
    runs (:meth:`OffPolicyAgent.stack`) the sum runs over the runs too, and each run's parameters
    get exactly the gradient of their own loss: every loss of the book is summed over runs, never
    averaged, so that no run's step depends on how many runs share the batch.
    """
    return ((q(batch.obs, batch.act) - y.unsqueeze(-2)) ** 2).mean(dim=-1).sum()


@documented
@dataclass(frozen=True)
class OffPolicyConfig:
    """Settings every off-policy actor-critic of the book shares.

    A wrong value raises ``ValueError`` naming the field and its allowed range.
    """

    total_steps: int = 20_000  # environment steps, warm-up included
    warmup_steps: int = 1_000  # uniform random actions and no updates before this step
    gamma: float = 0.99  # discount
    lr_q: float = 1e-3  # critic learning rate alpha_q
    lr_pi: float = 1e-3  # actor learning rate alpha_pi
    batch_size: int = 256  # mini-batch size b
    buffer_size: int = 1_000_000  # replay capacity B
    hidden: tuple[int, ...] = (256, 256)  # hidden widths of every network
    eval_every: int = 1_000  # evaluate the deterministic policy every this many steps (0: never)
    eval_episodes: int = 10  # evaluation episodes start from reset(seed=i), i = 0..eval_episodes-1
    device: str = "auto"  # "auto" (CUDA if available), "cpu", "cuda", ...
    # "bfloat16": updates under bf16 autocast (hidden layers' products in bfloat16, output layers,
    # losses, parameters and optimizer state in float32); only on devices with native bf16 units
    # (see bf16_native; elsewhere the agent refuses it: several times slower). "auto": bfloat16 where
    # native, else float32 (the agent's ``precision`` says which)
    precision: str = "float32"
    # "constant": the learning rates of the boxes; "linear": every learning rate (alpha's too)
    # falls linearly to 0 at total_steps, as SB3's linear schedules ("lin_1e-3" in the zoo), so
    # that the last updates are small (a departure from the boxes, which keep their rates fixed;
    # on Pendulum-v1 it slowed TD3 and left a SAC run stuck in a dip, so rlbook.runners.LAPTOP
    # does not use it)
    lr_schedule: str = "constant"

    def __post_init__(self):
        object.__setattr__(self, "hidden", check_sizes("hidden", self.hidden))
        self.validate()

    def validate(self) -> None:
        check_int("total_steps", self.total_steps, 1)
        check_int("warmup_steps", self.warmup_steps, 0)
        check_real("gamma", self.gamma, 0.0, 1.0, high_open=True)
        check_real("lr_q", self.lr_q, 0.0, low_open=True)
        check_real("lr_pi", self.lr_pi, 0.0, low_open=True)
        check_int("batch_size", self.batch_size, 1)
        check_int("buffer_size", self.buffer_size, 1)
        check_int("eval_every", self.eval_every, 0)
        check_int("eval_episodes", self.eval_episodes, 1)
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("lr_schedule", self.lr_schedule, ("constant", "linear"))
        check_device("device", self.device)

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def adam(params, lr: float, fused: bool = True) -> torch.optim.Adam:
    """Adam, fused into one kernel where this torch build supports it (several times faster than
    the per-parameter loop on CPU, identical arithmetic up to rounding); ``fused=False``: the
    ``foreach`` implementation (a few kernels over all parameters at once)."""
    params = list(params)
    if not fused:
        return torch.optim.Adam(params, lr=lr, foreach=True)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)


def gradient_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, params: list) -> None:
    """One step of ``optimizer`` on ``loss`` with respect to ``params`` only.

    ``torch.autograd.grad`` differentiates with respect to ``params`` alone, so the actor's loss
    never computes (or leaves behind) gradients for the critic it backpropagates through.
    """
    grads = torch.autograd.grad(loss, params)
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    optimizer.step()


#: Every agent class by its :attr:`~OffPolicyAgent.name`, filled as the classes are defined
#: (:meth:`OffPolicyAgent.__init_subclass__`): how a checkpoint finds the class that wrote it.
AGENTS: dict[str, type[OffPolicyAgent]] = {}


class OffPolicyAgent:
    """Scaffolding: device, replay buffer, deterministic evaluation, and the loop's hooks (the
    :class:`~rlbook.loop.Learner` protocol).

    A subclass that sets its own :attr:`name` registers itself in :data:`AGENTS` under it, so
    that :func:`rlbook.checkpoint.load` can rebuild it from a file that names it.
    """

    config_class = OffPolicyConfig
    name = "agent"

    #: What the agent is made of, by attribute name, as Acme's learners declare a training state:
    #: networks, optimizers, tensors and counters (:meth:`state_dict`), the random generators
    #: of its own that a run needs to continue exactly (:meth:`rng_state`), and the parts that
    #: keep their own state (:attr:`state_parts`). Checkpoints save and restore exactly these
    #: (:meth:`training_state`); a test checks that no network, optimizer or tensor is left out.
    state_modules: tuple[str, ...] = ()
    state_optimizers: tuple[str, ...] = ()
    state_tensors: tuple[str, ...] = ()
    state_counters: tuple[str, ...] = ("updates",)
    state_rngs: tuple[str, ...] = ()  # numpy Generators (the noise and buffer have their own)
    #: objects with ``state_dict(rng)`` / ``load_state_dict(state)`` of their own: the replay
    #: buffer (DDPG and TD3 add their exploration noise)
    state_parts: tuple[str, ...] = ("buffer",)
    #: ``None`` for one run; ``S`` for a batch of ``S`` independent runs (:meth:`stack`), whose
    #: networks carry a leading run dimension and whose buffer, noise and generators are per run
    members: int | None = None
    #: torch's generator of the agent's own draws (SAC's actions, TD3's target noise); in a batch
    #: of runs, one per run
    generator: torch.Generator | list[torch.Generator]
    #: the replay buffer, one per run in a batch (stored as one, :class:`MemberReplayBuffers`)
    buffer: ReplayBuffer | MemberReplayBuffers
    #: the policy :meth:`act_batch` evaluates (each actor-critic builds its own; DQN, which acts
    #: through its Q-network, overrides :meth:`act_batch`)
    policy: nn.Module

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in vars(cls):  # a subclass that keeps its parent's name is not a new agent
            return
        known = AGENTS.get(cls.name)
        # the same class defined again (a module reloaded in a notebook) replaces itself
        where = (cls.__module__, cls.__qualname__)
        if known is not None and (known.__module__, known.__qualname__) != where:
            raise ValueError(
                f"agent name {cls.name!r} is taken by {known.__module__}.{known.__qualname__}"
            )
        AGENTS[cls.name] = cls

    def state_dict(self) -> dict:
        """The declared networks, optimizers, tensors and counters (copies of the tensors)."""
        return {
            "modules": {n: getattr(self, n).state_dict() for n in self.state_modules},
            "optimizers": {n: getattr(self, n).state_dict() for n in self.state_optimizers},
            "tensors": {n: getattr(self, n).detach().clone() for n in self.state_tensors},
            "counters": {n: int(getattr(self, n)) for n in self.state_counters},
        }

    def load_state_dict(self, state: dict) -> None:
        """Put a :meth:`state_dict` back, in place; a name it does not declare, or a declared one
        that is missing, is refused (nothing is left at its fresh initialisation silently)."""
        for kind, names in (
            ("modules", self.state_modules),
            ("optimizers", self.state_optimizers),
            ("tensors", self.state_tensors),
            ("counters", self.state_counters),
        ):
            if kind not in state:
                raise ValueError(f"the saved state of {self.name} has no {kind!r} part")
            unknown, missing = set(state[kind]) - set(names), set(names) - set(state[kind])
            if unknown:
                raise ValueError(f"{self.name} has no {kind} named {sorted(unknown)}")
            if missing:
                raise ValueError(
                    f"the saved state of {self.name} lacks its {kind} {sorted(missing)}"
                )
        for n, sd in {**state["modules"], **state["optimizers"]}.items():
            getattr(self, n).load_state_dict(sd)
        with torch.no_grad():
            for n, value in state["tensors"].items():
                getattr(self, n).copy_(value)
        for n, value in state["counters"].items():
            setattr(self, n, int(value))

    def rng_state(self) -> dict:
        """The states of the agent's own random generators: torch's generator and
        :attr:`state_rngs` (numpy); in a batch of runs, a list of states (one per run) for each."""
        if isinstance(self.generator, list):  # a batch of runs
            return {
                "generator": [g.get_state() for g in self.generator],
                **{n: [r.bit_generator.state for r in getattr(self, n)] for n in self.state_rngs},
            }
        return {
            "generator": self.generator.get_state(),
            **{n: getattr(self, n).bit_generator.state for n in self.state_rngs},
        }

    def load_rng_state(self, state: dict) -> None:
        """Put an :meth:`rng_state` back, in place."""
        if isinstance(self.generator, list):  # a batch of runs
            for g, saved in zip(self.generator, state["generator"], strict=True):
                g.set_state(saved)
            for n in self.state_rngs:
                for r, saved in zip(getattr(self, n), state[n], strict=True):
                    r.bit_generator.state = saved
            return
        self.generator.set_state(state["generator"])
        for n in self.state_rngs:
            getattr(self, n).bit_generator.state = state[n]

    def training_state(self, buffer: bool = False, rng: bool = False) -> dict:
        """Everything the agent owns, as the union of its parts' states (Acme's
        ``TrainingState``): ``"agent"``, its :meth:`state_dict`; ``"parts"``, the
        ``state_dict(rng)`` of each of :attr:`state_parts`, the replay buffer's only with
        ``buffer`` (it may hold a million transitions); with ``rng``, ``"rng"``, its
        :meth:`rng_state`, and the parts' states include their generators'. ``buffer=True,
        rng=True`` is what a run needs to continue exactly (:func:`rlbook.checkpoint.resume`)."""
        parts = {
            name: getattr(self, name).state_dict(rng)
            for name in self.state_parts
            if buffer or name != "buffer"
        }
        state = {"agent": self.state_dict(), "parts": parts}
        if rng:
            state["rng"] = self.rng_state()
        return state

    def load_training_state(self, state: dict) -> None:
        """Put a :meth:`training_state` back, in place. A part the agent does not declare, or a
        declared one that is missing (the buffer excepted: saving it is optional), is refused."""
        parts = state["parts"]
        unknown = set(parts) - set(self.state_parts)
        missing = set(self.state_parts) - set(parts) - {"buffer"}
        if unknown or missing:
            raise ValueError(
                f"the saved state of {self.name} has the parts {sorted(parts)}; {self.name} "
                f"has {sorted(self.state_parts)} (the buffer optional)"
            )
        self.load_state_dict(state["agent"])
        for name, part in parts.items():
            getattr(self, name).load_state_dict(part)
        if "rng" in state:
            self.load_rng_state(state["rng"])

    def make_optimizers(self) -> None:
        """Build the optimizers over the current networks (``__init__`` and :meth:`stack`)."""

    def adam(self, params, lr: float) -> torch.optim.Adam:
        """The agent's Adam: fused for one run. A batch of runs uses the ``foreach`` Adam: the
        fused kernel rounds a few elements of a small stacked tensor (a critic's output bias, two
        numbers per run) differently depending on where they sit in it, so a run's numbers would
        depend on its position in the batch; the ``foreach`` kernels' do not (measured on AVX-512,
        AVX2 and SSE4.2 kernels by tests/test_seed_batch.py)."""
        return adam(params, lr, fused=self.members is None)

    @classmethod
    def stack(cls, agents: list[Self]) -> Self:
        """One agent that runs ``agents`` (fresh, same config) as a batch of independent runs.

        Each declared network becomes one network with a leading run dimension
        (:func:`rlbook.networks.stack_members`: run ``i``'s weights are ``agents[i]``'s, exactly);
        tensors are stacked; the replay buffers, noise processes and generators stay one per run,
        each drawing what it would draw alone. The optimizers are built afresh over the stacked
        parameters: Adam is elementwise, so each run's parameters move as they would alone.
        """
        first = agents[0]
        if any(a.updates or len(a.buffer) for a in agents):
            raise ValueError("stack fresh agents (no update made, nothing stored)")
        generators: list[torch.Generator] = []
        buffers: list[ReplayBuffer] = []
        for a in agents:
            if not isinstance(a.generator, torch.Generator) or not isinstance(
                a.buffer, ReplayBuffer
            ):
                raise ValueError("stack one-run agents, not batches of runs")
            generators.append(a.generator)
            buffers.append(a.buffer)
        batch = copy.copy(first)
        batch.members = len(agents)
        for name in cls.state_modules:
            setattr(batch, name, stack_members([getattr(a, name) for a in agents]))
        for name in cls.state_tensors:
            t = torch.stack([getattr(a, name).detach() for a in agents])
            setattr(batch, name, t.requires_grad_(getattr(first, name).requires_grad))
        batch.generator = generators
        for name in cls.state_rngs:
            setattr(batch, name, [getattr(a, name) for a in agents])
        batch.buffer = MemberReplayBuffers(buffers)
        batch.make_optimizers()
        return batch

    def member(self, i: int) -> Self:
        """Run ``i`` of a batch as an agent of its own (copies of its networks, tensors, buffer,
        noise and generators), to evaluate, plot or measure as any one-run agent. Its optimizers
        start afresh: to continue a batch's training, continue the batch."""
        if self.members is None:
            raise ValueError("member() is for a batch of runs (train with seeds=...)")
        i = check_int("i", i, 0, self.members - 1)
        generators, buffers = self.generator, self.buffer
        # stack() made both, one per run
        assert isinstance(generators, list) and isinstance(buffers, MemberReplayBuffers)
        single = copy.copy(self)
        single.members = None
        for name in self.state_modules:
            setattr(single, name, member_module(getattr(self, name), i))
        for name in self.state_tensors:
            t = getattr(self, name)
            setattr(single, name, t[i].detach().clone().requires_grad_(t.requires_grad))
        single.generator = torch.Generator(device=self.device)
        single.generator.set_state(generators[i].get_state())
        for name in self.state_rngs:
            setattr(single, name, copy.deepcopy(getattr(self, name)[i]))
        single.buffer = buffers.member(i)
        single.make_optimizers()
        return single

    def _act_input(self, obs) -> torch.Tensor:
        """``obs`` as a tensor the policy takes: one observation per run of a batch becomes a
        batch of one per run, shape ``(runs, 1, dim)``."""
        o = self._obs_tensor(obs)
        return o.unsqueeze(-2) if self.members else o

    def _act_output(self, act: torch.Tensor) -> np.ndarray:
        return (act.squeeze(-2) if self.members else act).cpu().numpy()

    @classmethod
    def for_config(cls, config) -> type:
        """The class that runs ``config`` (a variant selected by a setting may override this)."""
        return cls

    def __init__(self, env: gym.Env, config: OffPolicyConfig, seed_seq: np.random.SeedSequence):
        self.config = config
        self.action_space = self.check_env(env)
        self.obs_dim = flat_dim(env.observation_space)
        self.act_dim = int(np.prod(self.action_space.shape))  # 1 for a Discrete space (an index)
        if isinstance(self.action_space, gym.spaces.Box):
            self.low = self.action_space.low.astype(np.float32)
            self.high = self.action_space.high.astype(np.float32)
        self.device = resolve_device(config.device)
        # "float32" or "bfloat16", resolved on this device ("auto"; a non-native bf16 refused)
        self.precision = resolve_precision(config.precision, self.device)
        buffer_seed, self.noise_seed, torch_seed = seed_seq.spawn(3)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(int(torch_seed.generate_state(1)[0]))
        self.buffer = ReplayBuffer(  # ddpg 3, td3 3, sac 3, dqn 2, double-dqn 1
            self.obs_dim, self.act_dim, config.buffer_size, seed=buffer_seed, device=self.device
        )
        self.updates = 0  # the pseudocode's t: number of updates made so far

    def check_env(self, env: gym.Env):
        """The action space, if this agent can act in ``env`` (a bounded Box); else ValueError."""
        return check_box_env(env, self.name)

    # -- hooks the interaction loop calls -----------------------------------------------------
    def episode_start(self, member: int | None = None) -> None:
        """Called at the start of every episode (of run ``member`` of a batch; DDPG resets its
        OU noise here)."""

    def store(self, obs, act, rew, next_obs, terminated, truncated) -> None:
        self.buffer.add(
            obs, act, rew, next_obs, terminated, truncated
        )  # ddpg 6.5, td3 5.5, sac 5.4, dqn 4.3, double-dqn 2.1

    def _obs_tensor(self, obs) -> torch.Tensor:
        return torch.as_tensor(np.asarray(obs, dtype=np.float32), device=self.device)

    @torch.no_grad()
    def act_batch(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic actions for a batch of observations (used for evaluation)."""
        return self.policy(self._obs_tensor(obs)).cpu().numpy()

    def update(self) -> dict:
        raise NotImplementedError

    def anneal(self, step: int, total_steps: int | None = None) -> None:
        """Called by the loop after the update of environment step ``step`` of a run of
        ``total_steps`` (default: the config's; a resumed run passes its new budget): with
        ``lr_schedule="linear"``, set every declared optimizer's learning rates to their initial
        values times ``1 - step / total_steps`` (kept in each param group's ``initial_lr``, so
        checkpoints carry them); with ``"constant"``, nothing."""
        if self.config.lr_schedule != "linear":
            return
        total = total_steps or self.config.total_steps
        fraction = max(0.0, 1.0 - step / total)
        for name in self.state_optimizers:
            for group in getattr(self, name).param_groups:
                group.setdefault("initial_lr", group["lr"])
                group["lr"] = group["initial_lr"] * fraction

    def autocast(self):
        """The context the loop runs ``update`` in: bf16 autocast when :attr:`precision` (the
        config's, resolved on the device) is ``"bfloat16"``, else a no-op. Acting and evaluation
        always run in float32."""
        return torch.autocast(
            self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bfloat16"
        )


def train_agent(
    agent_class,
    env,
    config,
    seed: int,
    progress,
    overrides: dict,
    callback=None,
    seeds: Iterable[int] | None = None,
) -> Result | SeedResults:
    """Shared body of every ``train``: build config, seed, agent, run the loop; with ``seeds``,
    the runs of all those seeds as one batch (:func:`train_seeds`)."""
    if seeds is not None:
        if seed != 0:
            raise ValueError("pass seed (one run) or seeds (a batch of runs), not both")
        return train_seeds(agent_class, env, config, seeds, progress, overrides, callback)
    config = make_config(agent_class, config, overrides)
    agent_class = agent_class.for_config(config)
    make_env = env_factory(env)
    seed_seq = seed_everything(seed)
    agent_seed, loop_seed = seed_seq.spawn(2)
    probe = make_env()
    with seeded_torch(seed):  # the networks' initial weights; the caller's generator kept
        agent = agent_class(probe, config, agent_seed)
    probe.close()
    result = Result(agent=agent, config=config, resume_state=ResumeState(env))
    return run_config(result, make_env, config.total_steps, loop_seed, progress, callback)


def make_config(agent_class, config, overrides: dict):
    """``config`` with ``overrides`` applied (or the defaults with them), checked to be of the
    agent's config class."""
    if config is None:
        config = agent_class.config_class(**overrides)
    elif overrides:
        config = config.replace(**overrides)
    if not isinstance(config, agent_class.config_class):
        raise ValueError(
            f"config must be a {agent_class.config_class.__name__}; got {type(config).__name__}"
        )
    return config


def check_seeds(seeds: Iterable[int]) -> list[int]:
    """The seeds of a batch: at least one, each a non-negative integer, no repeats."""
    try:
        seeds = [check_int("seeds", s, 0) for s in seeds]
    except TypeError:
        raise ValueError(f"seeds must be an iterable of integers >= 0; got {seeds!r}") from None
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must not repeat (a repeated seed is the same run); got {seeds}")
    return seeds


def train_seeds(agent_class, env, config, seeds, progress, overrides, callback) -> SeedResults:
    """Runs of ``seeds`` in one process, as one batch: each run is built exactly as ``train``
    builds it for its seed (same initial weights, same generators), then the agents are stacked
    (:meth:`OffPolicyAgent.stack`) and one loop steps every run's environment and makes one
    batched update per step (:func:`rlbook.loop.run_members`)."""
    config = make_config(agent_class, config, overrides)
    agent_class = agent_class.for_config(config)
    seeds = check_seeds(seeds)
    make_env = env_factory(env)
    agents, loop_seeds = [], []
    probe = make_env()
    for seed in seeds:
        agent_seed, loop_seed = seed_everything(seed).spawn(2)
        with seeded_torch(seed):
            agents.append(agent_class(probe, config, agent_seed))
        loop_seeds.append(loop_seed)
    probe.close()
    agent = agent_class.stack(agents)
    result = SeedResults(agent=agent, config=config, seeds=seeds, resume_state=ResumeState(env))
    c = config
    return run_members(
        agent,
        make_env,
        total_steps=c.total_steps,
        warmup_steps=c.warmup_steps,
        seed_seqs=loop_seeds,
        eval_every=c.eval_every,
        eval_seeds=range(c.eval_episodes),
        progress=progress,
        result=result,
        callback=callback,
    )


def run_config(result: Result, make_env, total_steps: int, seed_seq, progress, callback) -> Result:
    """Run (or, when ``result.resume_state`` holds where a loop stopped, continue) the loop with
    ``result.config``'s settings."""
    c = result.config
    return run_off_policy(
        result.agent,
        make_env,
        total_steps=total_steps,
        warmup_steps=c.warmup_steps,
        seed_seq=seed_seq,
        eval_every=c.eval_every,
        eval_seeds=range(c.eval_episodes),
        progress=progress,
        result=result,
        callback=callback,
    )


def check_target_update(kind: str) -> None:
    check_choice("target_update", kind, ("hard", "ema"))
