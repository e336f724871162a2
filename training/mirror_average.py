"""Wraps a hashing model so its code is the average of the outputs for an image and its
left-right mirror, inside the ONNX graph (the hub, the CLIs and eval:retrieval run it unchanged):

    /usr/bin/python3 training/mirror_average.py models/obia-hash64.onnx training/.cache/mirror.onnx

The trainer augments with flips, so the network is nearly mirror-invariant already; averaging
the two outputs removes what is left of the difference, which helps where a slice's tumour side
is not what decides its class (brain MR). The batch is doubled, not the graph: x and its mirror
go through the one network as [x; mirror(x)] and the two halves of the output are averaged, so
the file keeps one copy of the weights and onnxruntime runs one batch of 2n.
"""
import sys

import onnx
from onnx import TensorProto, helper


def mirror_average(src: str, dst: str) -> None:
    model = onnx.load(src)
    graph = model.graph
    (inp,), (out,) = graph.input, graph.output
    x, code = inp.name, out.name
    body_in, body_out = "mirror_avg/body_input", "mirror_avg/body_output"
    # The network's own nodes now read the doubled batch and write an inner output.
    for node in graph.node:
        node.input[:] = [body_in if i == x else i for i in node.input]
        node.output[:] = [body_out if o == code else o for o in node.output]
    bits = out.type.tensor_type.shape.dim[1].dim_value
    consts = [
        helper.make_tensor("mirror_avg/starts", TensorProto.INT64, [1], [-1]),
        helper.make_tensor("mirror_avg/ends", TensorProto.INT64, [1], [-(2 ** 62)]),
        helper.make_tensor("mirror_avg/axes", TensorProto.INT64, [1], [3]),
        helper.make_tensor("mirror_avg/steps", TensorProto.INT64, [1], [-1]),
        helper.make_tensor("mirror_avg/halves", TensorProto.INT64, [3], [2, -1, bits]),
    ]
    graph.initializer.extend(consts)
    before = [
        # mirror(x): the width axis read backwards.
        helper.make_node("Slice", [x, "mirror_avg/starts", "mirror_avg/ends", "mirror_avg/axes", "mirror_avg/steps"], ["mirror_avg/mirrored"]),
        helper.make_node("Concat", [x, "mirror_avg/mirrored"], [body_in], axis=0),
    ]
    after = [
        helper.make_node("Reshape", [body_out, "mirror_avg/halves"], ["mirror_avg/pairs"]),
        helper.make_node("ReduceMean", ["mirror_avg/pairs"], [code], axes=[0], keepdims=0),
    ]
    nodes = before + list(graph.node) + after
    del graph.node[:]
    graph.node.extend(nodes)
    # Shapes inferred for the old inner tensors no longer hold for the doubled batch.
    del graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, dst)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: mirror_average.py IN.onnx OUT.onnx")
    mirror_average(sys.argv[1], sys.argv[2])
