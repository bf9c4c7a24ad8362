"""rlbook: the companion package of *Continuous-Action Reinforcement Learning*.

The package lives in the repository folder ``code/`` but is imported as ``rlbook``: a package
named ``code`` would be shadowed by Python's standard-library module of that name, which every
Jupyter kernel imports at start-up.
"""

__version__ = "0.1.0"
