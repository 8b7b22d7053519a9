"""The command line's model options, and the model they build (README: real models).

    --base-url URL / --model NAME / --api-key-env VAR    a real OpenAI-compatible endpoint
    --seed / --q / --latency                             the offline model (the default)
    --timeout S / --max-tokens N / --max-retries N       limits on each request (else AGENTLAB_TIMEOUT, ...)
    --context-window N                                   the model's context (else asked of the server)
    --tool-calling native|json|auto                      how tools reach a model (`agentlab.models.jsonmode`)
    --cassette FILE / --replay FILE                      record every response, with any endpoint; replay
                                                         them with no endpoint (the same command line)

Every option applies to every model: none is silently ignored. The key itself is never an argument
(it would show in `ps` and shell history): `--api-key-env` names the variable that holds it.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from typing import Any

from agentlab.errors import ConfigError
from agentlab.latency import Latency
from agentlab.models.chat import ChatModel, from_env, offline_model
from agentlab.models.config import ModelConfig, Secret, limits_from_env

__all__ = ["add_model_arguments", "is_real", "model_from_args"]


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the model options to a sub-command's parser."""
    group = parser.add_argument_group("model")
    group.add_argument("--base-url", help="an OpenAI-compatible endpoint (default: the offline model)")
    group.add_argument("--model", help="model name for --base-url (or AGENTLAB_MODEL)")
    group.add_argument("--api-key-env", help="name of the environment variable holding the API key")
    group.add_argument("--seed", type=int, default=7)
    group.add_argument("--q", type=float, default=0.7, help="offline model: per-turn success probability")
    group.add_argument("--latency", type=float, default=0.1, help="offline model: mean seconds per step")
    group.add_argument("--timeout", type=float, help="seconds per request attempt (default 30; AGENTLAB_TIMEOUT)")
    group.add_argument("--max-tokens", type=int, help="longest reply per step (default 1024; AGENTLAB_MAX_TOKENS)")
    group.add_argument("--max-retries", type=int, help="further attempts after a failure (default 2)")
    group.add_argument(
        "--context-window",
        type=int,
        metavar="TOKENS",
        help="the model's context window (default: ask the server, e.g. llama.cpp's n_ctx; AGENTLAB_CONTEXT_WINDOW)",
    )
    group.add_argument(
        "--tool-calling",
        choices=["native", "json", "auto"],
        help="native tool calls, one JSON object per turn (servers without tool support), or probe once",
    )
    tape = group.add_mutually_exclusive_group()
    tape.add_argument("--cassette", metavar="FILE", help="record every model response to this JSON-lines file")
    tape.add_argument("--replay", metavar="FILE", help="answer from a recorded cassette: no endpoint is contacted")


def is_real(args: argparse.Namespace) -> bool:
    """True when the options name a real endpoint rather than the offline model."""
    return bool(args.base_url or os.environ.get("AGENTLAB_BASE_URL"))


def _limits(args: argparse.Namespace) -> dict[str, Any]:
    given = {
        "timeout": args.timeout,
        "max_tokens": args.max_tokens,
        "max_retries": args.max_retries,
        "tool_calling": args.tool_calling,
        "context_window": args.context_window,
    }
    return {k: v for k, v in given.items() if v is not None}


def _key(args: argparse.Namespace) -> str | None:
    if not args.api_key_env:
        return None
    key = os.environ.get(args.api_key_env)
    if not key:
        raise ConfigError(f"--api-key-env names {args.api_key_env}, but that variable is not set")
    return key


def model_from_args(args: argparse.Namespace) -> ChatModel:
    """The model the options describe: a real endpoint or the offline policy, limited, maybe taped."""
    limits = _limits(args)
    if is_real(args):
        model = from_env(args.base_url, args.model, _key(args), seed=args.seed, **limits)
    elif args.replay and args.model:  # replaying a real run needs only its model name, no endpoint
        config = ModelConfig(model=args.model, api_key=Secret("none"), seed=args.seed)
        model = ChatModel(replace(config, **{**limits_from_env(), **limits}))
    else:
        latency = Latency("lognormal", mean=args.latency, sigma=0.4) if args.latency > 0 else Latency()
        model = offline_model(seed=args.seed, q=args.q, latency=latency)
        model = model.with_options(**limits) if limits else model
    if args.replay:
        return model.replaying(args.replay)
    return model.recording(args.cassette) if args.cassette else model
