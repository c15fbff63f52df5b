"""What forking a runner costs the zygote and the runner, with the zygote's heap in 4 KiB pages and in huge pages.

Run: .venv/bin/python benchmarks/zygote_fork.py [--forks 40]

A process with the zygote's imports (torch, dynamo, the runner) forks children that either exit at once or do a
runner's smallest work (build a module, one forward, exit); the parent's CPU (the fork) and the children's (their
page faults, work and exit) are read from rusage per fork.  Then the heap is collapsed into huge pages
(evaluators/huge_pages.py, as the zygote does) and the same is measured again in the same process.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch._dynamo  # noqa: E402, F401
import torch.utils.cpp_extension  # noqa: E402, F401
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import evaluators.runner  # noqa: E402, F401
from evaluators.huge_pages import collapse_heap  # noqa: E402


def small_work() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU())
    model(torch.randn(256, 64)).sum().item()


def forks(count: int, work) -> tuple[float, float, float]:
    """(parent ms, child ms, child minor faults) per fork."""
    parent0, children0 = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            if work is not None:
                work()
            os._exit(0)
        os.waitpid(pid, 0)
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
    return ((time.process_time() - parent0) / count * 1e3, child_cpu / count * 1e3,
            (children1.ru_minflt - children0.ru_minflt) / count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forks", type=int, default=40)
    args = parser.parse_args()
    cases = {"exit at once": None, "a module's forward, then exit": small_work}
    before = {name: forks(args.forks, work) for name, work in cases.items()}
    collapsed = collapse_heap()
    after = {name: forks(args.forks, work) for name, work in cases.items()}
    table = Table(title=f"per fork, {args.forks} forks each; {collapsed >> 20} MiB of heap collapsed into huge pages")
    for column in ("child", "pages", "fork (parent) ms", "child ms", "child faults", "total / 4 KiB total"):
        table.add_column(column, justify="right")
    for name in cases:
        for label, (parent, child, faults) in (("4 KiB", before[name]), ("huge", after[name])):
            ratio = (parent + child) / sum(before[name][:2])
            table.add_row(name, label, f"{parent:.2f}", f"{child:.2f}", f"{faults:.0f}", f"{ratio:.2f}")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
