"""The bundled SmolLM2-135M model, run in-process by llama.cpp behind an HTTP transport."""

from .model import (
    AsyncLocalTransport,
    LocalModel,
    LocalTransport,
    adapt_request,
    bundled_model_path,
    constrain_schema,
    local_available,
)

__all__ = [
    "AsyncLocalTransport",
    "LocalModel",
    "LocalTransport",
    "adapt_request",
    "bundled_model_path",
    "constrain_schema",
    "local_available",
]
