"""train-images selfmade: fakes made from real photos by autoencoders trained on them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from batch_classifier.trainer.images.cli import main
from batch_classifier.trainer.images.data import load_image_data
from batch_classifier.trainer.images.selfmade import UPSAMPLERS, AutoEncoder
from tests.image_fixtures import SIZE, make_faces


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("selfmade")
    data = make_faces(root / "faces", {"train": 6, "val": 3, "test": 2})
    out = root / "mine"
    result = CliRunner().invoke(main, ["selfmade", "--data", str(data), "--out", str(out),
                                       "--size", str(SIZE), "--steps", "3",
                                       "--max-per-split", "4", "--threads", "1"])
    assert result.exit_code == 0, result.output
    return data, out, result.output


def test_each_split_reconstructs_its_own_reals_only(made):
    data, out, _ = made
    for split, expected in (("train", 4), ("val", 3), ("test", 2)):
        files = sorted((out / split / "fake").iterdir())
        assert len(files) == expected  # at most --max-per-split
        own_reals = {p.stem for p in (data / split / "real").iterdir()}
        for file in files:
            kind, dataset, stem = file.stem.split("-", 2)
            assert kind in UPSAMPLERS and dataset == "faces" and stem in own_reals
            with Image.open(file) as image:
                assert image.format == "JPEG" and image.size == (SIZE, SIZE)
    kinds = {f.name.split("-")[0] for f in (out / "train" / "fake").iterdir()}
    assert kinds == set(UPSAMPLERS)


def test_output_is_a_fake_source_for_fit(made):
    data, out, _ = made
    loaded = load_image_data([data, out], SIZE)
    sources = set(loaded.train.sources.tolist())
    assert {f"mine/fake/{kind}" for kind in UPSAMPLERS} <= sources
    mine = np.array([s.startswith("mine/") for s in loaded.train.sources])
    assert (loaded.train.labels[mine] == 1).all()


def test_summary_names_the_command_and_losses(made):
    _, out, _ = made
    summary = json.loads((out / "selfmade.json").read_text())
    assert " selfmade --data " in summary["command"] and "--steps 3" in summary["command"]
    assert set(summary["final_l1"]) == set(UPSAMPLERS)
    assert all(np.isfinite(v) for v in summary["final_l1"].values())
    assert summary["written"]["val"] == {"transposed": 2, "nearest": 1}


def test_refuses_a_folder_that_is_not_empty(made):
    data, out, _ = made
    result = CliRunner().invoke(main, ["selfmade", "--data", str(data), "--out", str(out),
                                       "--size", str(SIZE), "--steps", "1"])
    assert result.exit_code != 0
    assert "not empty" in result.output


@pytest.mark.parametrize("kind", UPSAMPLERS)
def test_autoencoder_keeps_the_shape_and_upsamples_by_its_kind(kind):
    model = AutoEncoder(kind, width=8, latent=4)
    x = torch.zeros(2, 3, 32, 32)
    assert model(x).shape == x.shape
    upsamplers = [m for m in model.decode.modules()
                  if isinstance(m, torch.nn.ConvTranspose2d | torch.nn.Upsample)]
    expected = torch.nn.ConvTranspose2d if kind == "transposed" else torch.nn.Upsample
    assert len(upsamplers) == 2 and all(isinstance(m, expected) for m in upsamplers)
