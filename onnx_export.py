"""The actor as an ONNX graph, for robot software (C++, ROS) that runs ONNX models.

The graph is written node by node from a policy file's arrays rather than converted from the
TF SavedModel, so it needs neither TensorFlow nor a converter, and it spells out the very steps
of :meth:`herdemos.policy.Policy.deterministic`: raw inputs clipped to ``clip_obs``, normalised
and clipped to ``norm_clip``, the ReLU MLP, ``tanh`` scaled by ``max_u``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from herdemos import __version__
from herdemos.policy import Policy
from herdemos.util import HerdemosError, atomic_write

OPSET = 17
"""ONNX operator set: Clip with tensor bounds (11+) and the rest since long before; 17 is read
by every onnxruntime of the last years."""

INSTALL_HINT = "pip install 'herdemos[onnx]'"


def import_onnx() -> Any:
    """The ``onnx`` module, or a one-line error naming the extra that installs it."""
    try:
        import onnx
    except ImportError:
        raise HerdemosError(f"--format onnx needs the onnx package: {INSTALL_HINT}") from None
    return onnx


def actor_model(policy: Policy) -> Any:
    """``policy``'s deterministic actor as an ``onnx.ModelProto``.

    Inputs ``observation`` float32 ``[batch, dim_o]`` and ``desired_goal`` float32
    ``[batch, dim_g]``; output ``action`` float32 ``[batch, dim_u]``, the names and shapes of the
    SavedModel's ``serving_default`` signature.
    """
    onnx = import_onnx()
    from onnx import TensorProto, helper, numpy_helper

    initializers: list[Any] = []
    nodes: list[Any] = []

    def constant(name: str, value: Any) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(value, np.float32), name))
        return name

    def node(op: str, inputs: list[str], name: str) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name))
        return name

    clip_obs = (
        constant("clip_obs_low", -policy.clip_obs),
        constant("clip_obs_high", policy.clip_obs),
    )
    norm_clip = (
        constant("norm_clip_low", -policy.norm_clip),
        constant("norm_clip_high", policy.norm_clip),
    )

    def clip_and_normalize(x: str, mean: np.ndarray, std: np.ndarray, prefix: str) -> str:
        # herdemos.normalizer.clip_and_normalize, one node per step.
        clipped = node("Clip", [x, *clip_obs], f"{prefix}_clipped")
        centred = node("Sub", [clipped, constant(f"{prefix}_mean", mean)], f"{prefix}_centred")
        scaled = node("Div", [centred, constant(f"{prefix}_std", std)], f"{prefix}_scaled")
        return node("Clip", [scaled, *norm_clip], f"{prefix}_normalized")

    o_n = clip_and_normalize("observation", policy.o_mean, policy.o_std, "o")
    g_n = clip_and_normalize("desired_goal", policy.g_mean, policy.g_std, "g")
    nodes.append(helper.make_node("Concat", [o_n, g_n], ["inputs"], name="inputs", axis=-1))
    x = "inputs"
    n_layers = len(policy.actor_weights) // 2
    for i in range(n_layers):  # herdemos.policy.mlp_forward
        kernel = constant(f"actor_kernel_{i}", policy.actor_weights[2 * i])
        bias = constant(f"actor_bias_{i}", policy.actor_weights[2 * i + 1])
        x = node("Add", [node("MatMul", [x, kernel], f"layer_{i}_matmul"), bias], f"layer_{i}")
        if i < n_layers - 1:
            x = node("Relu", [x], f"layer_{i}_relu")
    squashed = node("Tanh", [x], "tanh")
    nodes.append(
        helper.make_node("Mul", [squashed, constant("max_u", policy.max_u)], ["action"], "action")
    )
    dim_o, dim_g = policy.o_mean.size, policy.g_mean.size
    dim_u = policy.actor_weights[-1].shape[-1]
    graph = helper.make_graph(
        nodes,
        "herdemos_actor",
        [
            helper.make_tensor_value_info("observation", TensorProto.FLOAT, ["batch", dim_o]),
            helper.make_tensor_value_info("desired_goal", TensorProto.FLOAT, ["batch", dim_g]),
        ],
        [helper.make_tensor_value_info("action", TensorProto.FLOAT, ["batch", dim_u])],
        initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="herdemos",
        producer_version=__version__,
    )
    helper.set_model_props(
        model, {"env_id": policy.env_id, "epoch": str(policy.metadata.get("epoch", ""))}
    )
    onnx.checker.check_model(model)
    return model


def write_actor_onnx(policy: Policy, path: str | os.PathLike) -> None:
    """Writes :func:`actor_model` to ``path`` atomically."""
    payload = actor_model(policy).SerializeToString()
    atomic_write(path, lambda f: f.write(payload))
