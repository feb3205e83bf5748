"""The model contract: metadata required, validated, and refused with a clear error."""

from __future__ import annotations

import onnx
import pytest

from batch_classifier.inference.contract import ModelContract, encode_metadata, required_keys
from batch_classifier.inference.errors import ModelContractError
from batch_classifier.inference.session import load_model


def _rewrite_metadata(source, target, change):
    model = onnx.load(str(source))
    props = {p.key: p.value for p in model.metadata_props}
    change(props)
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(target))
    return target


def test_shipped_contract_roundtrips(cities_model):
    model = load_model(cities_model, device="cpu", task="cities")
    assert model.contract.task == "cities"
    assert model.contract.label_codes == ["FR", "PL", "ES", "FJ"]
    assert model.contract.input_contract["columns"] == ["latitude", "longitude"]
    assert "test_acc" in model.contract.metrics


@pytest.mark.parametrize("key", required_keys("cities"))
def test_model_without_a_required_key_is_refused(tmp_path, cities_model, key):
    broken = _rewrite_metadata(cities_model, tmp_path / "broken.onnx",
                               lambda props: props.pop(key))
    with pytest.raises(ModelContractError, match=key if key != "task" else "not a model"):
        load_model(broken, device="cpu")


def test_model_with_bad_json_is_refused(tmp_path, cities_model):
    broken = _rewrite_metadata(cities_model, tmp_path / "broken.onnx",
                               lambda props: props.update(labels="[not json"))
    with pytest.raises(ModelContractError, match="'labels' is not valid JSON"):
        load_model(broken, device="cpu")


def test_model_for_the_wrong_task_is_refused(cities_model):
    with pytest.raises(ModelContractError, match="model for 'cities', not for 'images'"):
        load_model(cities_model, device="cpu", task="images")


def test_labels_and_codes_must_agree():
    values = {"task": "cities", "labels": ["A", "B"], "label_codes": ["AA"],
              "input_contract": {}, "output": "probabilities", "data_fingerprint": "x",
              "metrics": {}, "trainer_version": "0", "model_name": "m"}
    with pytest.raises(ModelContractError, match="2 labels but 1 codes"):
        ModelContract.from_metadata(encode_metadata(values), "m.onnx")


def test_cli_refuses_model_without_metadata(tmp_path, cities_model):
    from click.testing import CliRunner

    from batch_classifier.inference.cities.cli import main

    broken = _rewrite_metadata(cities_model, tmp_path / "bare.onnx", lambda props: props.clear())
    data = tmp_path / "in.csv"
    data.write_text("lat,lon\n1,1\n")
    result = CliRunner().invoke(main, [str(data), "--model", str(broken)])
    assert result.exit_code == 2
    assert "not a model of this tool" in result.stderr and "Traceback" not in result.output
