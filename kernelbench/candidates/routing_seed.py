"""Seed for evolving discovery/llm_serving_routing: a weighted instance cost that starts as least-loaded.

The weights are tunable constants the offline mutator can move; an LLM may rewrite the function itself.
"""

# EVOLVE-BLOCK-START
QUEUE_WEIGHT = 1.0          # outstanding requests (queued + running)
TOKEN_WEIGHT = 0.0          # prompt tokens waiting to be prefilled
KV_WEIGHT = 0.0             # fraction of the KV pool in use
SPEED_EXPONENT = 0.0        # divide the load by speed ** SPEED_EXPONENT
PROMPT_SPEED_WEIGHT = 0.0   # long prompts prefer fast instances


def route(request, instances):
    def cost(instance):
        load = (QUEUE_WEIGHT * (instance.queued + instance.running) + TOKEN_WEIGHT * instance.queued_prompt_tokens
                + KV_WEIGHT * instance.kv_used / instance.kv_capacity)
        return (load / instance.speed ** SPEED_EXPONENT - PROMPT_SPEED_WEIGHT * request.prompt_tokens * instance.speed,
                instance.index)

    return min(instances, key=cost).index
# EVOLVE-BLOCK-END
