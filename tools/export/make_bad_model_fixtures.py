"""Writes tiny ONNX graphs that misbehave at run time, for the ERR_MODEL tests (test/model.test.ts).

nan-score.onnx: input [N, 1, 32, 32] float32 -> score [N, 1] = mean(x) * NaN, a model whose
  outputs are NaN for every image (e.g. a checkpoint with NaN weights).
nan-dark.onnx: the same shape, but score = sqrt(mean(x) - 0.5): NaN only for dark images,
  finite for bright ones, so the error names which sample went wrong.

  python3 tools/export/make_bad_model_fixtures.py --out-dir test/fixtures/bad-models
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def graph(name, body, consts):
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 32, 32])
    y = helper.make_tensor_value_info("score", TensorProto.FLOAT, ["batch", 1])
    mean = helper.make_node("ReduceMean", ["input"], ["m4"], axes=[1, 2, 3], keepdims=1)
    flat = helper.make_node("Reshape", ["m4", "shape2"], ["m"])
    inits = [numpy_helper.from_array(np.array([-1, 1], dtype=np.int64), "shape2")]
    inits += [numpy_helper.from_array(np.array([v], dtype=np.float32), k) for k, v in consts.items()]
    g = helper.make_graph([mean, flat] + body, name, [x], [y], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="iqa-node tests")
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", required=True)
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    nan_all = graph("nan_score", [helper.make_node("Mul", ["m", "nan"], ["score"])], {"nan": np.nan})
    nan_dark = graph(
        "nan_dark",
        [helper.make_node("Sub", ["m", "half"], ["d"]), helper.make_node("Sqrt", ["d"], ["score"])],
        {"half": 0.5},
    )
    import onnxruntime as ort

    for fname, model, probe in (
        ("nan-score.onnx", nan_all, lambda v: np.isnan(v).all()),
        ("nan-dark.onnx", nan_dark, lambda v: np.isnan(v[0, 0]) and np.isfinite(v[1, 0])),
    ):
        path = os.path.join(a.out_dir, fname)
        onnx.save(model, path)
        # Check ORT really produces what the tests expect: row 0 dark (mean 0.1), row 1 bright (0.9).
        x = np.stack([np.full((1, 32, 32), 0.1, np.float32), np.full((1, 32, 32), 0.9, np.float32)])
        out = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
        assert probe(out), (fname, out)
        print(fname, out.ravel().tolist())


if __name__ == "__main__":
    main()
