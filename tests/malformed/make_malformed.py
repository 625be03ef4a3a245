#!/usr/bin/env python3
"""Writes the malformed-model test set: small .onnx files that are broken in one way each.

The files are committed; this script only documents and regenerates them (it needs the `onnx` Python
package, which the tests do not). Each model's expected error text is in expected.txt, checked by
check_malformed.sh: `tessel dump MODEL` must exit with code 1 (never a signal) and print that text.
"""
import os
import sys

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))


def tensor_input(name, dims, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, dims)


def model(nodes, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def relu_model():
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [tensor_input("x", [2, 3])],
                 [tensor_input("y", [2, 3])])


def save(name, m):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(m.SerializeToString() if hasattr(m, "SerializeToString") else m)


def raw_weight(name, dims, raw):
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    t.raw_data = raw
    return t


def add_weight_model(weight):
    return model([helper.make_node("Add", ["x", weight.name], ["y"], name="add")], [tensor_input("x", [2, 2])],
                 [tensor_input("y", [2, 2])], [weight])


def external_model(location):
    t = TensorProto()
    t.name = "w"
    t.data_type = TensorProto.FLOAT
    t.dims.extend([2, 2])
    t.data_location = TensorProto.EXTERNAL
    entry = t.external_data.add()
    entry.key, entry.value = "location", location
    return add_weight_model(t)


def main():
    good = relu_model().SerializeToString()
    save("truncated.onnx", good[: len(good) // 2])
    save("empty.onnx", b"")
    save("garbage.onnx", b"\xff\xfe not a protobuf at all \x00\x01\x02" * 4)
    save("wrong_data_length.onnx", add_weight_model(raw_weight("w", [2, 2], b"\x00" * 12)))
    save("negative_dim.onnx", add_weight_model(raw_weight("w", [2, -2], b"")))
    save("overflowing_dims.onnx", add_weight_model(raw_weight("w", [1 << 40, 1 << 40], b"")))
    save("huge_tensor.onnx", add_weight_model(raw_weight("w", [1 << 20, 1 << 20], b"")))
    save("cycle.onnx", model([helper.make_node("Relu", ["b"], ["a"], name="r1"),
                              helper.make_node("Relu", ["a"], ["b"], name="r2")],
                             [tensor_input("x", [2])], [tensor_input("a", [2])]))
    save("dangling_input.onnx", model([helper.make_node("Relu", ["nowhere"], ["y"], name="relu")],
                                      [tensor_input("x", [2])], [tensor_input("y", [2])]))
    save("duplicate_output.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="r1"),
                                         helper.make_node("Neg", ["x"], ["y"], name="r2")],
                                        [tensor_input("x", [2])], [tensor_input("y", [2])]))
    save("missing_graph_output.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                                            [tensor_input("x", [2])], [tensor_input("z", [2])]))
    save("unsupported_op.onnx", model([helper.make_node("DeformConv", ["x", "x"], ["y"], name="deform")],
                                      [tensor_input("x", [1, 1, 2, 2])], [tensor_input("y", [1, 1, 2, 2])]))
    save("unknown_domain.onnx", model([helper.make_node("Foo", ["x"], ["y"], name="foo", domain="com.example")],
                                      [tensor_input("x", [2])], [tensor_input("y", [2])]))
    save("bad_elem_type.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                                     [tensor_input("x", [2], elem=99)], [tensor_input("y", [2])]))
    save("shape_mismatch.onnx", model([helper.make_node("Add", ["x", "z"], ["y"], name="add")],
                                      [tensor_input("x", [2, 3]), tensor_input("z", [4])],
                                      [tensor_input("y", [2, 3])]))
    save("missing_attribute.onnx", model([helper.make_node("Cast", ["x"], ["y"], name="cast")],
                                         [tensor_input("x", [2])], [tensor_input("y", [2])]))
    save("opset_too_new.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                                     [tensor_input("x", [2])], [tensor_input("y", [2])], opset=99))
    save("external_absolute.onnx", external_model("/etc/passwd"))
    save("external_dotdot.onnx", external_model("../weights.bin"))
    save("external_missing.onnx", external_model("no_such_weights.bin"))
    # A link inside the folder that leads out of it (the link is made by check_malformed.sh in a copy,
    # since git keeps links but some checkouts do not).
    save("external_link.onnx", external_model("escape_link.bin"))


if __name__ == "__main__":
    sys.exit(main())
