"""A model whose metadata does not fit its graph is refused when it is loaded (exit 2),
not row by row with an IndexError."""

from __future__ import annotations

import json

import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper

from batch_classifier.inference.contract import encode_metadata
from batch_classifier.inference.errors import ModelContractError
from batch_classifier.inference.images.cli import main as classify_images
from batch_classifier.inference.session import load_model
from tests.jobs_support import brightness_model, run_cli
from tests.test_contract import _rewrite_metadata as rewrite_metadata

CITIES = {"task": "cities", "model_name": "m", "output": "probabilities",
          "input_contract": {"dtype": "float32", "shape": ["N", 2]},
          "data_fingerprint": "x", "metrics": {}, "trainer_version": "test"}


def with_labels(source, target, labels: list[str]):
    def change(props):
        props["labels"] = props["label_codes"] = json.dumps(labels)
    return rewrite_metadata(source, target, change)


def linear_cities_model(path, classes: int, declared_width: int | str, inputs: int = 2):
    """(lat, lon) -> `classes` values, the output width declared as `declared_width`
    (a number, or a name: not fixed in the file)."""
    weights = helper.make_tensor("w", TensorProto.FLOAT, [inputs, classes],
                                 [0.1] * (inputs * classes))
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["input", "w"], ["output"])], "linear",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", inputs])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", declared_width])],
        [weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    labels = [f"C{i}" for i in range(4)]
    for key, value in encode_metadata({**CITIES, "labels": labels,
                                       "label_codes": labels}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("labels", [3, 5])
def test_a_label_list_that_does_not_fit_the_output_is_refused(tmp_path, cities_model, labels):
    broken = with_labels(cities_model, tmp_path / "broken.onnx",
                         [f"L{i}" for i in range(labels)])
    with pytest.raises(ModelContractError, match="gives 4 values per row"):
        load_model(broken, device="cpu", task="cities")
    source = tmp_path / "in.csv"
    source.write_text("lat,lon\n48.85,2.35\n")
    result = run_cli(source, "--model", broken, "--top-k", "3")
    assert result.exit_code == 2 and "gives 4 values per row" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("classes, declared, fits", [(4, 4, True), (4, "C", True),
                                                     (6, "C", False), (6, 6, False)])
def test_the_output_width_is_checked_fixed_or_not(tmp_path, classes, declared, fits):
    model = linear_cities_model(tmp_path / "m.onnx", classes, declared)
    if fits:
        assert load_model(model, device="cpu", task="cities").contract.labels
    else:
        with pytest.raises(ModelContractError, match="gives 6 values per row"):
            load_model(model, device="cpu", task="cities")


def test_an_input_that_does_not_fit_the_contract_is_refused(tmp_path):
    model = linear_cities_model(tmp_path / "m.onnx", 4, 4, inputs=3)
    with pytest.raises(ModelContractError, match="takes rows of shape"):
        load_model(model, device="cpu", task="cities")


def test_an_images_model_with_two_outputs_per_image_is_refused(tmp_path):
    model = brightness_model(tmp_path / "b.onnx")
    graph = onnx.load(str(model))
    shape = next(t for t in graph.graph.initializer if t.name == "shape")
    shape.CopyFrom(helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 2]))
    graph.graph.output[0].type.tensor_type.shape.dim[1].dim_param = "K"
    onnx.save(graph, str(model))
    (tmp_path / "in").mkdir()
    result = CliRunner().invoke(classify_images, [str(tmp_path / "in"), "--model", str(model)])
    assert result.exit_code == 2, result.output
    assert "values per row" in result.stderr or "does not run" in result.stderr
