"""The OpenAI-compatible client against the scripted HTTP test double: retries, errors, accounting, cache."""

import pytest

from stark.llm.cache import ResponseCache
from stark.llm.client import OpenAIChatClient
from stark.llm.settings import ModelSettings
from tests.scripted_llm_server import ScriptedOpenAIServer, Step

MESSAGES = [{"role": "user", "content": "x" * 400}]


def settings(server, **overrides) -> ModelSettings:
    base = dict(model="m", base_url=server.base_url, api_key_env="", timeout_s=1.0, max_retries=3, backoff_s=0.01,
                usd_per_million_input=2.0, usd_per_million_output=8.0)
    return ModelSettings(**{**base, **overrides})


def test_success_records_tokens_and_cost():
    with ScriptedOpenAIServer({"m": [Step("hello world!")]}) as server:
        reply = OpenAIChatClient(settings(server)).chat("coder", MESSAGES)
    assert reply.ok and reply.text == "hello world!"
    (call,) = reply.calls
    assert (call.role, call.status, call.prompt_tokens, call.completion_tokens) == ("coder", "ok", 100, 3)
    assert call.cost_usd == pytest.approx((100 * 2.0 + 3 * 8.0) / 1e6)


def test_rate_limit_server_error_and_timeout_are_retried():
    script = [Step("slow down", 429, headers={"retry-after": "0"}), Step("boom", 500), Step("late", delay_s=2.0),
              Step("finally")]
    with ScriptedOpenAIServer({"m": script}) as server:
        reply = OpenAIChatClient(settings(server)).chat("planner", MESSAGES)
    assert reply.text == "finally"
    assert [c.status for c in reply.calls] == ["error", "error", "error", "ok"]
    assert reply.calls[0].error.startswith("HTTP 429") and reply.calls[1].error.startswith("HTTP 500")
    assert "Timeout" in reply.calls[2].error


def test_client_errors_are_not_retried():
    with ScriptedOpenAIServer({"m": [Step("bad request", 400), Step("never reached")]}) as server:
        reply = OpenAIChatClient(settings(server)).chat("planner", MESSAGES)
        assert server.remaining("m") == 1
    assert not reply.ok and reply.text == "" and reply.error.startswith("HTTP 400")


def test_retries_run_out():
    with ScriptedOpenAIServer(fallback={"m": Step("down", 503)}) as server:
        reply = OpenAIChatClient(settings(server, max_retries=2)).chat("planner", MESSAGES)
    assert not reply.ok and len(reply.calls) == 3


def test_response_cache_serves_repeats_without_http(tmp_path):
    cache = ResponseCache(tmp_path / "cache.sqlite")
    with ScriptedOpenAIServer({"m": [Step("first")]}) as server:
        client = OpenAIChatClient(settings(server), cache=cache)
        assert client.chat("coder", MESSAGES).text == "first"
        again = client.chat("coder", MESSAGES)
        assert len(server.requests) == 1
    assert again.text == "first" and again.calls[0].status == "cached" and again.calls[0].cost_usd == 0


@pytest.mark.parametrize("misbehaviour", [Step("{}", misbehave="truncated"), Step("", status=200),
                                          Step("x", misbehave="reset")])
@pytest.mark.parametrize("stream", [True, False])
def test_malformed_empty_and_dropped_replies_are_retried(misbehaviour, stream):
    with ScriptedOpenAIServer({"m": [misbehaviour, Step("finally")]}) as server:
        reply = OpenAIChatClient(settings(server, stream=stream)).chat("coder", MESSAGES)
    assert reply.ok and reply.text == "finally" and len(reply.calls) == 2
    assert reply.calls[0].status in ("error", "empty")


def test_a_dripping_reply_is_cut_at_the_try_timeout_not_per_read():
    import time

    with ScriptedOpenAIServer({"m": [Step("slow", misbehave="drip", drip_s=0.2), Step("fast")]}) as server:
        started = time.monotonic()
        reply = OpenAIChatClient(settings(server, timeout_s=1.0)).chat("coder", MESSAGES)
        took = time.monotonic() - started
    assert reply.text == "fast" and "still arriving" in reply.calls[0].error
    assert took < 5.0


def test_the_call_deadline_bounds_all_tries_together():
    import time

    with ScriptedOpenAIServer(fallback={"m": Step("down", 503)}) as server:
        started = time.monotonic()
        reply = OpenAIChatClient(settings(server, max_retries=50, backoff_s=0.2, call_deadline_s=1.5)).chat(
            "coder", MESSAGES)
        took = time.monotonic() - started
    assert not reply.ok and reply.unavailable.startswith("HTTP 503") and took < 3.0


def test_an_outage_is_reported_as_unavailable_but_a_bad_request_is_not():
    with ScriptedOpenAIServer(fallback={"m": Step("down", 503)}) as server:
        down = OpenAIChatClient(settings(server, max_retries=1)).chat("coder", MESSAGES)
    with ScriptedOpenAIServer({"m": [Step("bad", 400)]}) as server:
        refused = OpenAIChatClient(settings(server)).chat("coder", MESSAGES)
    assert down.unavailable and not refused.unavailable and not refused.ok


def test_probe_lists_models_without_spending_a_completion():
    with ScriptedOpenAIServer({"m": [Step("x")]}) as server:
        client = OpenAIChatClient(settings(server))
        assert client.probe() is None
        assert server.remaining("m") == 1 and server.model_listings == 1
        server.outage(5)
        failure = client.probe()
    assert failure is not None and failure.kind == "outage"


def test_prompt_and_reply_text_are_recorded_with_the_finish_reason():
    with ScriptedOpenAIServer({"m": [Step("a reply long enough to come in several stream events")]}) as server:
        reply = OpenAIChatClient(settings(server)).chat("coder", MESSAGES)
        assert server.requests[0]["stream"] is True
    (call,) = reply.calls
    assert call.response == reply.text == "a reply long enough to come in several stream events"
    assert call.finish_reason == "stop" and '"content": "' + "x" * 400 in call.prompt


def test_a_reply_cut_at_the_token_limit_is_asked_again_with_a_larger_limit():
    script = [Step("half an ans", finish_reason="length"), Step("half an answer, still", finish_reason="length")]
    with ScriptedOpenAIServer({"m": script}) as server:
        reply = OpenAIChatClient(settings(server, max_output_tokens=100, context_tokens=1000)).chat("coder", MESSAGES)
        limits = [r["max_tokens"] for r in server.requests]
    assert limits == [100, 200]
    assert reply.ok and reply.truncated and reply.text == "half an answer, still"
    assert [c.status for c in reply.calls] == ["truncated", "truncated"]
    assert "output token limit" in reply.calls[-1].error


def test_structured_output_is_asked_for_as_configured():
    schema = {"type": "object", "properties": {"strategy": {"type": "string"}}}
    with ScriptedOpenAIServer(fallback={"m": Step('{"strategy": "tile"}')}) as server:
        tool = OpenAIChatClient(settings(server, output="tool")).chat("planner", MESSAGES, schema=schema)
        as_schema = OpenAIChatClient(settings(server, output="json_schema")).chat("planner", MESSAGES, schema=schema)
        sent = server.requests
    assert tool.text == as_schema.text == '{"strategy": "tile"}'
    assert sent[0]["tools"][0]["function"]["parameters"] == schema
    assert sent[1]["response_format"]["json_schema"]["schema"] == schema


def test_a_missing_key_variable_is_one_clear_line_unless_the_endpoint_needs_none(monkeypatch):
    from stark.llm.client import MissingKey

    monkeypatch.delenv("STARK_ABSENT_KEY", raising=False)
    with ScriptedOpenAIServer({"m": [Step("x")]}) as server:
        with pytest.raises(MissingKey, match=r"\$STARK_ABSENT_KEY is not set .*api_key_env = \"\""):
            OpenAIChatClient(settings(server, api_key_env="STARK_ABSENT_KEY"))
        assert OpenAIChatClient(settings(server, api_key_env="")).chat("coder", MESSAGES).ok


def test_cancel_stops_a_call_in_progress():
    import threading
    import time

    with ScriptedOpenAIServer({"m": [Step("slow reply", misbehave="drip", drip_s=0.05)]}) as server:
        client = OpenAIChatClient(settings(server, timeout_s=30.0))
        threading.Timer(0.5, client.cancel).start()
        started = time.monotonic()
        reply = client.chat("coder", MESSAGES)
    assert not reply.ok and not reply.unavailable and time.monotonic() - started < 3.0
    assert "cancelled" in reply.calls[-1].error


def test_settings_refuse_a_context_with_no_room_for_the_prompt():
    with pytest.raises(ValueError, match="context_tokens .4096. must exceed max_output_tokens .4096."):
        ModelSettings(context_tokens=4096, max_output_tokens=4096)
    assert ModelSettings(base_url="http://127.0.0.1:8080/v1").concurrency() == 1
    assert ModelSettings().concurrency() == 4


def test_a_request_the_server_rejects_as_invalid_is_not_an_outage_even_as_a_500():
    """llama-cpp-python's server answers an unknown response_format with HTTP 500 and a validation error."""
    rejected = Step("1 validation error: Input should be 'text' or 'json_object'", 500)
    with ScriptedOpenAIServer({"m": [rejected, Step("never reached")]}) as server:
        reply = OpenAIChatClient(settings(server, output="json_schema")).chat("coder", MESSAGES, schema={})
        assert server.remaining("m") == 1
    assert not reply.ok and not reply.unavailable and "validation error" in reply.error
