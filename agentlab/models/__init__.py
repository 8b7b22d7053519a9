"""The model family: one reasoning step = one chat completion with tools (lab 01).

    base.py       the `Model` protocol the loop speaks (no SDK needed to read it)
    config.py     `ModelConfig`, `Secret`, and the limits read from the environment
    chat.py       `ChatModel` through the real `openai` SDK; `offline_model()`, `from_env()`
    failures.py   one retry decision for a failed request, and the words that say what failed
    clients.py    which HTTP client a config gets: in-process offline, bounded, recording or replaying
    probe.py      does a server really call tools? (`tool_calling="auto"`)
    transport.py  a deadline for the whole reply, a cap on its size, Retry-After
    jsonmode.py   tool calling for models that cannot: one JSON object per turn
    cassette.py   record a run's responses once, replay them exactly
    blocking.py   blocking calls from async agents, on one large pool per process
    localllm.py   a real model offline: llama.cpp's server with SmolLM2 (opt-in)
    offline/      the offline model: a seeded policy, its planning skills, its endpoint

Nothing here knows the loop, the supervisor or the cluster.
"""

__all__: list[str] = []
