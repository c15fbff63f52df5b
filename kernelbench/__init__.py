"""KernelBench-format problems: the ones written here, an external checkout's, and leaderboard metrics."""

from kernelbench.problem import ProblemError, ProblemRef, load_problem
from kernelbench.registry import builtin_problems, kernelbench_problems, resolve_problem

__all__ = ["ProblemError", "ProblemRef", "builtin_problems", "kernelbench_problems", "load_problem", "resolve_problem"]
