"""The continuous-action names of :mod:`rlbook.pcl`, under their former path (kept for one release:
import them from :mod:`rlbook.pcl`). Plain re-exports: the objects are those of rlbook.pcl."""

from __future__ import annotations

from .pcl import PENDULUM, GaussianPCL, GaussianPolicy, rollout_env, train_env

__all__ = ["GaussianPCL", "GaussianPolicy", "PENDULUM", "rollout_env", "train_env"]
