"""The actor as an ONNX graph, for robot software (C++, ROS) that runs ONNX models.

The graph is built from a policy file's arrays rather than converted from the TF SavedModel, so
it needs neither TensorFlow nor a converter. It is traced from the very functions the NumPy
policy and the SavedModel run (:func:`herdemos.normalizer.clip_and_normalize` and
:func:`herdemos.policy.actor_forward`), given :class:`~herdemos.normalizer.ArrayOps` whose values
are graph nodes, so the three cannot drift apart.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from herdemos import __version__
from herdemos.normalizer import ArrayOps, clip_and_normalize
from herdemos.policy import Policy, actor_forward
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


class _Graph:
    """The nodes and constants of a graph being traced."""

    def __init__(self, helper: Any, numpy_helper: Any) -> None:
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def constant(self, value: Any) -> str:
        name = f"const_{len(self.initializers)}"
        array = np.asarray(value, np.float32)
        self.initializers.append(self.numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[Any], **attributes: Any) -> _Node:
        """A node of ``op`` on graph values, or arrays and numbers (made constants)."""
        names = [x.name if isinstance(x, _Node) else self.constant(x) for x in inputs]
        name = f"{op.lower()}_{len(self.nodes)}"
        self.nodes.append(self.helper.make_node(op, names, [name], name=name, **attributes))
        return _Node(self, name)


class _Node:
    """A value of the traced graph, with the arithmetic the shared forward pass uses."""

    __array_ufunc__ = None  # `array @ node`, `max_u * node`: NumPy defers to the methods below

    def __init__(self, graph: _Graph, name: str) -> None:
        self.graph, self.name = graph, name

    def __sub__(self, other: Any) -> _Node:
        return self.graph.node("Sub", [self, other])

    def __truediv__(self, other: Any) -> _Node:
        return self.graph.node("Div", [self, other])

    def __matmul__(self, other: Any) -> _Node:
        return self.graph.node("MatMul", [self, other])

    def __add__(self, other: Any) -> _Node:
        return self.graph.node("Add", [self, other])

    def __rmul__(self, other: Any) -> _Node:
        return self.graph.node("Mul", [other, self])


def _onnx_ops(graph: _Graph) -> ArrayOps:
    return ArrayOps(
        clip=lambda x, low, high: graph.node("Clip", [x, low, high]),
        relu=lambda x: graph.node("Relu", [x]),
        tanh=lambda x: graph.node("Tanh", [x]),
        concat=lambda xs: graph.node("Concat", xs, axis=-1),
        to_float32=lambda x: x,  # every value of the graph is float32
    )


def actor_model(policy: Policy) -> Any:
    """``policy``'s deterministic actor as an ``onnx.ModelProto``.

    Inputs ``observation`` float32 ``[batch, dim_o]`` and ``desired_goal`` float32
    ``[batch, dim_g]``; output ``action`` float32 ``[batch, dim_u]``, the names and shapes of the
    SavedModel's ``serving_default`` signature.
    """
    onnx = import_onnx()
    from onnx import TensorProto, helper, numpy_helper

    graph = _Graph(helper, numpy_helper)
    ops = _onnx_ops(graph)
    c, n = policy.clip_obs, policy.norm_clip
    o_n = clip_and_normalize(_Node(graph, "observation"), policy.o_mean, policy.o_std, c, n, ops)
    g_n = clip_and_normalize(_Node(graph, "desired_goal"), policy.g_mean, policy.g_std, c, n, ops)
    action = actor_forward(policy.actor_weights, o_n, g_n, policy.max_u, ops)
    graph.nodes.append(helper.make_node("Identity", [action.name], ["action"], name="action"))
    dim_o, dim_g = policy.o_mean.size, policy.g_mean.size
    dim_u = policy.actor_weights[-1].shape[-1]
    model = helper.make_model(
        helper.make_graph(
            graph.nodes,
            "herdemos_actor",
            [
                helper.make_tensor_value_info("observation", TensorProto.FLOAT, ["batch", dim_o]),
                helper.make_tensor_value_info("desired_goal", TensorProto.FLOAT, ["batch", dim_g]),
            ],
            [helper.make_tensor_value_info("action", TensorProto.FLOAT, ["batch", dim_u])],
            graph.initializers,
        ),
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
