"""`stark show`: one program and the conversation that produced it, for a person to read."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.rule import Rule
from rich.syntax import Syntax
from rich.text import Text


def _messages(prompt: str) -> list[dict[str, str]]:
    try:
        messages = json.loads(prompt)
        return messages if isinstance(messages, list) else [{"role": "prompt", "content": prompt}]
    except ValueError:
        return [{"role": "prompt", "content": prompt}]


def render_program(report: dict[str, Any], console: Console, prompts: bool = True) -> None:
    p = report["program"]
    console.print(Text(f"program #{p['id']} · {p['status']} · attempt {p['attempt']} · {p['origin']} of "
                       f"{'#' + str(p['parent_id']) if p['parent_id'] else 'nothing (seed)'} · island {p['island']}",
                       style="bold"))
    for key in ("strategy", "note"):
        if p.get(key):
            console.print(f"{key}: {p[key]}", highlight=False, soft_wrap=True)
    if p.get("score") is not None:
        console.print(f"score: {p['score']:.4g}")
    if p.get("diff"):
        console.print(Rule("diff from parent"))
        console.print(Syntax(p["diff"], "diff", word_wrap=True))
    for evaluation in report["evaluations"]:
        failure = evaluation.get("failure") or {}
        verdict = ("passed" if evaluation.get("passed")
                   else f"failed in {failure.get('stage', '?')} ({failure.get('kind', '?')}): "
                        f"{(failure.get('message') or '').strip()[:300]}")
        console.print(Rule("evaluation"))
        console.print(verdict, highlight=False, soft_wrap=True)
    calls = report["llm_calls"]
    if not calls:
        console.print(Text("no LLM calls for this attempt (offline agents, or the seed)", style="dim"))
    for call in calls:
        console.print(Rule(f"{call['role']} · {call['model']} · {call['status']} · {call['prompt_tokens']}+"
                           f"{call['completion_tokens']} tokens · {call['latency_s']:.1f} s"))
        if call.get("error"):
            console.print(Text(f"error: {call['error']}", style="red"), soft_wrap=True)
        if prompts and call.get("prompt"):
            for message in _messages(call["prompt"]):
                console.print(Text(f"[{message.get('role', '?')}]", style="bold cyan"))
                console.print(Text(str(message.get("content", ""))), soft_wrap=True)
        console.print(Text(f"[reply{', finish: ' + call['finish_reason'] if call.get('finish_reason') else ''}]",
                           style="bold green"))
        console.print(Text(call.get("response") or "(no text)"), soft_wrap=True)
