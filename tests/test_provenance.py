"""Provenance before pixels: files that declare themselves AI-generated (C2PA, IPTC in
XMP, generator metadata) are labelled fake by their metadata, through the API, the CLI,
resume and Dask parts; camera marks and invalid manifests never decide."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from batch_classifier import FakeImageDetector
from batch_classifier.inference.images.cli import main as classify_images
from batch_classifier.inference.images.provenance import manifests
from batch_classifier.inference.images.provenance.reader import read_provenance
from tests.jobs_support import brightness_model, finished
from tests.provenance_fixtures import (
    MARKED,
    dark_pixels,
    encoded,
    png_with_texts,
    signed,
    write_marked,
    xmp_packet,
)

EXPECTED_TEXT = {
    "c2pa-jpeg": "c2pa valid (untrusted signer): created by Test Generator 1.0, "
                 "trainedAlgorithmicMedia",
    "xmp-jpeg": "xmp DigitalSourceType: trainedAlgorithmicMedia",
    "sd-parameters": "png parameters: Stable Diffusion (model v1-5-pruned), Steps 30",
    "comfyui": "png prompt: ComfyUI; png workflow: ComfyUI",
    "exif-usercomment": "exif UserComment: Stable Diffusion (model v1-5-pruned), Steps 30",
}


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """P(fake) = mean brightness, threshold 0.5: the dark test images are 'real'."""
    return brightness_model(tmp_path_factory.mktemp("model") / "bright.onnx")


@pytest.fixture(scope="module")
def marked(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    return write_marked(tmp_path_factory.mktemp("marked") / "in")


def bright() -> np.ndarray:
    """A bright image: the brightness model calls it fake."""
    return np.full((40, 40, 3), 230, np.uint8)


def test_every_kind_of_mark_decides_and_the_stripped_pixels_do_not(marked, model):
    kinds = list(MARKED)
    out = FakeImageDetector(model, device="cpu").predict(
        [marked[k][0] for k in kinds] + [marked[k][1] for k in kinds])
    n = len(kinds)
    for i, kind in enumerate(kinds):
        assert out.error[i] is None and out.error[n + i] is None, kind
        assert (out.label[i], out.evidence[i]) == ("fake", "metadata"), (kind, out.provenance[i])
        assert (out.label[n + i], out.evidence[n + i], out.provenance[n + i]) == \
            ("real", "pixels", None), kind
        # the probability stays the pixel model's: the same pixels, the same value
        assert out.fake_probability[i] == out.fake_probability[n + i] < 0.5, kind
        assert out.provenance[i] == EXPECTED_TEXT.get(kind, EXPECTED_TEXT.get(
            kind.split("-")[0] + "-jpeg")), kind


def test_provenance_off_is_pixels_only(marked, model):
    out = FakeImageDetector(model, provenance=False).predict([p for p, _ in marked.values()])
    assert set(out.label) == {"real"} and set(out.evidence) == {"pixels"}
    assert set(out.provenance) == {None}


def rows_of(text: str) -> dict[str, dict[str, str]]:
    return {Path(row["path"]).name: row for row in csv.DictReader(io.StringIO(text))}


def test_cli_columns_summary_and_provenance_off(marked, model, tmp_path):
    folder = next(iter(marked.values()))[0].parent
    summary = tmp_path / "summary.json"
    result = CliRunner().invoke(classify_images, [str(folder), "--model", str(model), "-q",
                                                  "--summary-json", str(summary)])
    finished(result, 0)
    assert result.stdout.splitlines()[0] == \
        "path,label,fake_probability,evidence,provenance,error"
    rows = rows_of(result.stdout)
    for path, stripped in marked.values():
        assert (rows[path.name]["label"], rows[path.name]["evidence"]) == ("fake", "metadata")
        assert (rows[stripped.name]["label"], rows[stripped.name]["evidence"],
                rows[stripped.name]["provenance"]) == ("real", "pixels", "")
    assert json.loads(summary.read_text())["by_evidence"] == {"metadata": len(marked),
                                                              "pixels": len(marked)}
    line = CliRunner().invoke(classify_images, [str(folder), "--model", str(model)]).stderr
    assert f"; by evidence: metadata {len(marked)}, pixels {len(marked)}" in line
    off = CliRunner().invoke(classify_images, [str(folder), "--model", str(model), "-q",
                                               "--provenance", "off"])
    finished(off, 0)
    assert {(r["label"], r["evidence"], r["provenance"]) for r in rows_of(off.stdout).values()} \
        == {("real", "pixels", "")}


def test_resume_carries_the_columns_and_refuses_another_provenance_setting(model, tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out.csv"
    folder.mkdir()
    (folder / "a.png").write_bytes(png_with_texts(dark_pixels(1), {"parameters": "Steps: 9"}))
    args = [str(folder), "--model", str(model), "-o", str(out), "--resume", "-q"]
    finished(CliRunner().invoke(classify_images, args), 0)
    (folder / "b.png").write_bytes(encoded(dark_pixels(2), "PNG"))
    finished(CliRunner().invoke(classify_images, args), 0)
    rows = rows_of(out.read_text())
    assert (rows["a.png"]["evidence"], rows["a.png"]["provenance"]) == \
        ("metadata", "png parameters: Stable Diffusion, Steps 9")
    assert (rows["b.png"]["evidence"], rows["b.png"]["label"]) == ("pixels", "real")
    refused = CliRunner().invoke(classify_images, [*args, "--provenance", "off"])
    assert refused.exit_code == 2 and "--provenance" in refused.output


def test_dask_parts_carry_the_columns_and_count_by_evidence(marked, model, tmp_path):
    pytest.importorskip("distributed")
    folder = next(iter(marked.values()))[0].parent
    local, parts = tmp_path / "local.csv", tmp_path / "parts"
    finished(CliRunner().invoke(classify_images, [str(folder), "--model", str(model), "-q",
                                                  "-o", str(local)]), 0)
    summary = tmp_path / "summary.json"
    result = CliRunner().invoke(classify_images, [
        str(folder), "--model", str(model), "--dask", "local:2", "--files-per-task", "5",
        "-o", str(parts), "-q", "--summary-json", str(summary)])
    finished(result, 0)
    part_rows = {}
    for part in sorted(parts.glob("part-*.csv")):
        part_rows |= rows_of(part.read_text())
    assert part_rows == rows_of(local.read_text())
    counts = {"metadata": len(marked), "pixels": len(marked)}
    assert json.loads((parts / "_SUCCESS").read_text())["by_evidence"] == counts
    assert json.loads(summary.read_text())["by_evidence"] == counts


CAPTURED = ("c2pa.created", "digitalCapture")


@pytest.mark.parametrize("actions,evidence,text", [
    ((("c2pa.created", "trainedAlgorithmicMedia"),), "metadata",
     "created by Test Generator 1.0, trainedAlgorithmicMedia"),
    ((CAPTURED, ("c2pa.edited", "compositeWithTrainedAlgorithmicMedia")), "metadata",
     "created, edited by Test Generator 1.0, digitalCapture, "
     "compositeWithTrainedAlgorithmicMedia"),
    ((("c2pa.created", "algorithmicMedia"),), "pixels",  # not trained: procedural
     "created by Test Generator 1.0, algorithmicMedia"),
    ((CAPTURED,), "pixels", "created by Test Generator 1.0, digitalCapture"),  # never decides
    ((CAPTURED, ("c2pa.color_adjustments", None)), "pixels",
     "created, color_adjustments by Test Generator 1.0, digitalCapture"),
])
def test_what_a_valid_manifest_declares(tmp_path, model, actions, evidence, text):
    path = tmp_path / "signed.jpg"
    path.write_bytes(signed(encoded(bright(), "JPEG"), "JPEG", actions))
    out = FakeImageDetector(model).predict([path])
    assert out.evidence[0] == evidence and out.label[0] == "fake"  # bright pixels: fake
    assert out.provenance[0] == f"c2pa valid (untrusted signer): {text}"


def test_an_edit_of_a_generated_image_is_generated(tmp_path, model):
    parent = signed(encoded(dark_pixels(5), "JPEG"), "JPEG")
    path = tmp_path / "edit.jpg"
    path.write_bytes(signed(encoded(dark_pixels(6), "JPEG"), "JPEG", (
        ("c2pa.opened", None), ("c2pa.color_adjustments", None)), parent=parent))
    out = FakeImageDetector(model).predict([path])
    assert (out.label[0], out.evidence[0]) == ("fake", "metadata")
    assert out.provenance[0] == ("c2pa valid (untrusted signer): opened, color_adjustments by "
                                 "Test Generator 1.0; an ingredient trainedAlgorithmicMedia")


def test_a_camera_mark_never_makes_a_file_real(tmp_path, model):
    exif = __import__("PIL.Image", fromlist=["Exif"]).Exif()
    exif[271], exif[272] = "Canon", "Canon EOS R5"
    (tmp_path / "exif.jpg").write_bytes(encoded(bright(), "JPEG", exif=exif))
    (tmp_path / "xmp.jpg").write_bytes(encoded(bright(), "JPEG",
                                               xmp=xmp_packet("digitalCapture")))
    out = FakeImageDetector(model).predict([tmp_path / "exif.jpg", tmp_path / "xmp.jpg"])
    assert list(out.label) == ["fake", "fake"] and list(out.evidence) == ["pixels", "pixels"]
    assert list(out.provenance) == ["exif camera: Canon EOS R5",
                                    "xmp DigitalSourceType: digitalCapture"]


def test_a_tampered_manifest_is_reported_and_never_trusted(tmp_path, model):
    data = bytearray(signed(encoded(dark_pixels(3), "JPEG"), "JPEG"))
    data[-40] ^= 0xFF  # a byte of the image data, after the manifest was signed
    path = tmp_path / "tampered.jpg"
    path.write_bytes(bytes(data))
    out = FakeImageDetector(model).predict([path])
    assert (out.label[0], out.evidence[0]) == ("real", "pixels")
    assert out.provenance[0].startswith("c2pa invalid, not trusted (assertion.dataHash.mismatch)")


def test_without_the_binding_a_manifest_is_reported_present_not_verified(tmp_path, monkeypatch,
                                                                          model):
    path = tmp_path / "signed.png"
    path.write_bytes(signed(encoded(dark_pixels(4), "PNG"), "PNG"))
    monkeypatch.setattr(manifests, "binding", None)
    out = FakeImageDetector(model).predict([path])
    assert (out.label[0], out.evidence[0]) == ("real", "pixels")
    assert out.provenance[0] == ("c2pa manifest present, not verified "
                                 "(pip install 'batch-classifier[provenance]')")


def test_a_file_that_cannot_be_read_gets_a_note(tmp_path):
    assert read_provenance(tmp_path / "missing.png").text == \
        "provenance not read (No such file or directory)"


def test_files_without_a_manifest_never_load_the_binding(marked):
    paths = [str(p) for kind, pair in marked.items() for p in pair if not kind.startswith("c2pa")]
    code = ("import sys; from batch_classifier.inference.images.provenance.reader import "
            "read_provenance; [read_provenance(p) for p in sys.argv[1:]]; "
            "print('c2pa' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
