"""How many replies of a real model become usable: recorded once against a live endpoint, replayed forever.

    python benchmarks/real_replies.py --record http://127.0.0.1:8088/v1 --model smollm2   # talks to the model
    python benchmarks/real_replies.py                                                     # replays the fixture

Recording sends the prompts the planner, coder and reviewer really build (the shipped templates, the seed
programs, the problems' sources; plans for the coder come from the offline planner, so they are grounded) to the
endpoint, in plain text and, where asked, with structured output, and stores each reply (and the reply after one
re-ask, when the first could not be used) in tests/fixtures/real_replies/<name>.json.gz.  Replaying reads every
first reply twice: as stark read replies before (exact SEARCH/REPLACE or an exact full rewrite; plans only in the
exact STRATEGY/INSTRUCTIONS/[L..] form) and as it reads them now, then counts what one re-ask added, and prints
the share that became a usable plan or an applicable edit, by role.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stark.agents.framing import KERNEL_FRAMING, discovery_framing  # noqa: E402
from stark.agents.plans import read_plan  # noqa: E402
from stark.agents.records import PlanRequest, ProgramView, RepairRequest  # noqa: E402
from stark.edits import EditError, apply_edit  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "real_replies"
CASES = (  # problem, seed program
    ("level1/relu", "tests/candidates/relu_evolvable_seed.py"),
    ("level1/matmul_square", "kernelbench/candidates/matmul_square_tiled.py"),
    ("discovery/kv_cache_eviction", "kernelbench/candidates/kv_eviction_seed.py"),
    ("discovery/scratchpad_planning", "kernelbench/candidates/scratchpad_seed.py"),
)
FAILURE = "stage verify, kind wrong_output: max abs error 3.2e-01 exceeds atol 1e-05 on trial 0"


def framing_for(problem_id: str):
    if not problem_id.startswith("discovery/"):
        return KERNEL_FRAMING
    from kernelbench.problem import load_module
    from kernelbench.registry import resolve_problem

    module = load_module(resolve_problem(problem_id).path, prefix="stark_discovery")
    return discovery_framing("the problem's objective", "see the problem", module.ENTRY_POINTS)


def record(base_url: str, model: str, name: str, repeats: int, outputs: list[str], max_tokens: int,
           context: int) -> None:
    from stark.agents.llm_roles import LLMCoder, LLMPlanner, LLMReviewer
    from stark.agents.offline import OfflinePlanner
    from stark.agents.records import CodeRequest
    from stark.llm.client import OpenAIChatClient
    from stark.llm.settings import ModelSettings

    from kernelbench.registry import resolve_problem

    entries, started = [], time.monotonic()
    for problem_id, seed_path in CASES:
        source = (ROOT / seed_path).read_text()
        problem_source = Path(resolve_problem(problem_id).path).read_text()
        framing = framing_for(problem_id)
        parent = ProgramView(0, source, 1.0, True, "evaluated")
        for output in outputs:
            settings = ModelSettings(model=model, base_url=base_url, api_key_env="", temperature=0.7,
                                     max_output_tokens=max_tokens, context_tokens=context, timeout_s=600,
                                     call_deadline_s=1200, max_retries=1, output=output, truncation_retries=0,
                                     format_retries=1)
            client = OpenAIChatClient(settings)
            roles = {"planner": LLMPlanner(client, settings, framing), "coder": LLMCoder(client, settings, framing),
                     "reviewer": LLMReviewer(client, settings, (), framing)}
            for repeat in range(repeats):
                plan = OfflinePlanner().plan(PlanRequest(repeat, repeat, problem_source, parent))
                jobs = [("planner", lambda: roles["planner"].plan(PlanRequest(repeat, repeat, problem_source, parent))),
                        ("coder", lambda: roles["coder"].code(CodeRequest(repeat, repeat, plan, parent))),
                        ("reviewer", lambda: roles["reviewer"].repair(
                            RepairRequest(repeat, repeat, problem_source, parent, FAILURE)))]
                for role, job in jobs:
                    outcome = job()
                    calls = [c for c in outcome.calls if c.status in ("ok", "truncated")]
                    if not calls:
                        print(f"  {problem_id} {role} {output}: no reply ({outcome.error})", flush=True)
                    group = len({e["group"] for e in entries})
                    for turn, call in enumerate(calls):      # turn 1: the reply after being told what was wrong
                        entries.append({"group": group, "turn": turn, "problem": problem_id, "seed": seed_path,
                                        "role": role, "output": output, "prompt": json.loads(call.prompt),
                                        "reply": call.response, "finish_reason": call.finish_reason,
                                        "latency_s": round(call.latency_s, 1)})
                        print(f"  [{time.monotonic() - started:6.0f} s] {problem_id} {role} {output} turn {turn}: "
                              f"{call.completion_tokens} tokens, finish {call.finish_reason}", flush=True)
    target = FIXTURES / f"{name}.json.gz"
    payload = {"model": model, "endpoint": "llama-cpp-python server", "max_output_tokens": max_tokens,
               "recorded": time.strftime("%Y-%m-%d"), "entries": entries}
    target.write_bytes(gzip.compress(json.dumps(payload, indent=1, ensure_ascii=False).encode(), mtime=0))
    print(f"wrote {len(entries)} replies to {target}")


_EXACT_PLAN = re.compile(r"^STRATEGY:.+\n(?:.*\n)*?INSTRUCTIONS:", re.M)
_EXACT_REF = re.compile(r"\[L(\d+)(?:-L(\d+))?\]")


def usable_before(entry: dict, source: str) -> bool:
    reply = entry["reply"]
    if entry["role"] == "planner":
        lines = len(source.splitlines())
        refs = _EXACT_REF.findall(reply.split("INSTRUCTIONS:", 1)[-1])
        return bool(_EXACT_PLAN.search(reply)) and bool(refs) and all(
            1 <= int(a) <= int(b or a) <= lines for a, b in refs)
    try:
        apply_edit(source, reply, strict=True)
        return True
    except EditError:
        return False


def usable_now(entry: dict, source: str) -> tuple[bool, str]:
    """(usable, how it was read or why not)."""
    reply = entry["reply"]
    truncated = entry.get("finish_reason") == "length"
    if entry["role"] == "planner":
        if entry["output"] != "text":
            from stark.edits.structured import json_object, plan_text

            data = json_object(reply)
            reply = plan_text(data) if data is not None else reply
        plan = read_plan(reply, source)
        return (not plan.problem, "repaired" if plan.repaired else plan.problem or "as written")
    try:
        return True, apply_edit(source, reply, truncated=truncated).form
    except EditError as exc:
        return False, str(exc)


def load_fixture(name: str) -> dict:
    return json.loads(gzip.decompress((FIXTURES / f"{name}.json.gz").read_bytes()))


def fixture_names() -> list[str]:
    return sorted(path.name.removesuffix(".json.gz") for path in FIXTURES.glob("*.json.gz"))


def replay(name: str) -> dict:
    data = load_fixture(name)
    table: dict[tuple[str, str], Counter] = {}
    reasons: Counter = Counter()
    groups: dict[int, bool] = {}
    for index, entry in enumerate(data["entries"]):
        source = (ROOT / entry["seed"]).read_text()
        key = (entry["role"], entry["output"])
        counts = table.setdefault(key, Counter())
        ok, how = usable_now(entry, source)
        group = entry.get("group", index)
        groups[group] = groups.get(group, False) or ok
        if entry.get("turn", 0) == 0:
            counts["asked"] += 1
            counts["before"] += usable_before(entry, source)
            counts["now"] += ok
            reasons[(entry["role"], re.sub(r"\d+", "N", how)[:90])] += 1
    for index, entry in enumerate(data["entries"]):
        if entry.get("turn", 0) == 0:
            table[(entry["role"], entry["output"])]["after re-ask"] += groups[entry.get("group", index)]
    print(f"{data['model']} ({data['endpoint']}), {len(data['entries'])} recorded replies to stark's real prompts"
          + (f"; {data['note']}" if data.get("note") else ""))
    print(f"{'role':9} {'output':19} {'asked':>5} {'usable before':>14} {'usable now':>11} {'after one re-ask':>17}")
    total = Counter()
    for (role, output), counts in sorted(table.items()):
        total.update(counts)
        print(f"{role:9} {output:19} {counts['asked']:5d} {_share(counts, 'before'):>14} {_share(counts, 'now'):>11} "
              f"{_share(counts, 'after re-ask'):>17}")
    print(f"{'all':29} {total['asked']:5d} {_share(total, 'before'):>14} {_share(total, 'now'):>11} "
          f"{_share(total, 'after re-ask'):>17}")
    print("\nhow first replies were read, or why not (most common first):")
    for (role, how), count in reasons.most_common(12):
        print(f"  {count:3d}  {role:9} {how}")
    return {f"{r}/{o}": dict(c) for (r, o), c in table.items()}


def _share(counts: Counter, key: str) -> str:
    return f"{counts[key]} ({counts[key] / counts['asked']:.0%})" if counts["asked"] else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", metavar="BASE_URL", help="record a new fixture from this endpoint")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--name", help="the fixture to record, or to replay (default: every fixture)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--outputs", default="text,json_object_schema")
    parser.add_argument("--max-tokens", type=int, default=768)
    parser.add_argument("--context", type=int, default=8192)
    args = parser.parse_args()
    if args.record:
        record(args.record, args.model, args.name or args.model, args.repeats, args.outputs.split(","),
               args.max_tokens, args.context)
    for name in [args.name] if args.name else fixture_names():
        print(f"\n== {name}")
        replay(name)


if __name__ == "__main__":
    main()
