"""OpenEvolve's driver cost per iteration, measured as benchmarks/campaign_overhead.py measures stark's.

Runs inside a venv holding `openevolve==0.4.0` (it imports nothing from stark): campaign_overhead.py starts it
with `--openevolve-python`.  OpenEvolve's main process (the controller: its program database, islands, prompt
sampling, checkpoints) is the driver; its worker processes call the LLM and the evaluator, as stark's agent and
evaluator actors do.  The LLM is the same scripted OpenAI-compatible server, answering with whole programs (full
rewrites); the evaluator returns a score at once.  Every program the controller adds is a mark (iterations
done, process CPU, wall, main-thread CPU); marks are cut into buckets of `--bucket` iterations.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

EVALUATOR = '''
def evaluate(program_path):
    text = open(program_path).read()
    return {"combined_score": 1.0 + (hash(text) % 1000) / 1e6}
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--bucket", type=int, default=1000)
    parser.add_argument("--seed", required=True)
    parser.add_argument("--workdir", default="")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    from openevolve import database
    from openevolve.api import run_evolution
    from openevolve.config import Config, LLMModelConfig

    marks: list[tuple[int, float, float, float]] = []
    add = database.ProgramDatabase.add

    def counted_add(self, *a, **k):
        result = add(self, *a, **k)
        if "iteration" in k:            # an iteration's child (migrant copies are added without one)
            marks.append((len(marks), time.process_time(), time.perf_counter(), time.thread_time()))
        return result

    database.ProgramDatabase.add = counted_add
    work = Path(args.workdir or tempfile.mkdtemp(prefix="openevolve-overhead-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "evaluator.py").write_text(EVALUATOR)
    config = Config()
    config.max_iterations = args.iterations
    config.diff_based_evolution = False
    config.log_level = os.environ.get("OE_LOG_LEVEL", "WARNING")
    config.llm.models = [LLMModelConfig(name="coder", api_base=args.base_url, api_key="none", weight=1.0)]
    config.llm.api_base = args.base_url
    config.llm.api_key = "none"
    config.llm.retries = 0
    config.evaluator.cascade_evaluation = False
    config.evaluator.parallel_evaluations = 2
    config.evaluator.enable_artifacts = False
    config.database.num_islands = 4
    config.database.in_memory = True
    os.environ.setdefault("OPENAI_API_KEY", "none")
    run_evolution(args.seed, str(work / "evaluator.py"), config=config, iterations=args.iterations,
                  output_dir=str(work / "out"), cleanup=False)
    buckets = []
    for start in range(0, len(marks), args.bucket):
        chunk = marks[start:start + args.bucket]
        if len(chunk) < 2:
            break
        (n0, cpu0, wall0, loop0), (n1, cpu1, wall1, loop1) = chunk[0], chunk[-1]
        count = n1 - n0
        buckets.append({"label": f"iterations {n0 + 1}-{n1 + 1}", "programs": n1 + 1, "attempts": count,
                        "cpu_ms": (cpu1 - cpu0) / count * 1e3, "wall_ms": (wall1 - wall0) / count * 1e3,
                        "loop_cpu_ms": (loop1 - loop0) / count * 1e3})
    Path(args.out).write_text(json.dumps(buckets))


if __name__ == "__main__":
    main()
