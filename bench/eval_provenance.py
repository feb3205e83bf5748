"""The reference provenance files against what a reader should conclude about each.

    python bench/eval_provenance.py --data ../shared/data/provenance

Runs FakeImageDetector (the shipped model; what classify-images runs) on every file of
the folder (see ../shared/data/README.md, "provenance/"), with the C2PA binding and
then as without it, and prints each file's evidence, label and provenance, whether it
is what the README's table expects, and the count of matches. Exit 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from batch_classifier import FakeImageDetector
from batch_classifier.inference.images.provenance import manifests

# file -> (evidence, the provenance column's start) with the binding, as the data's README
# says a reader should conclude
EXPECTED = {
    "ai-created.jpg": ("metadata", "c2pa valid (untrusted signer): created by test-generator "
                                   "1.0, trainedAlgorithmicMedia"),
    "C.jpg": ("pixels", "c2pa valid (untrusted signer): created by make_test_images/0.26.0, "
                        "algorithmicMedia"),
    "CA.jpg": ("pixels", "c2pa valid (untrusted signer): opened, color_adjustments by "
                         "make_test_images 0.33.1"),
    "XCA.jpg": ("pixels", "c2pa invalid, not trusted (assertion.dataHash.mismatch)"),
    "E-sig-CA.jpg": ("pixels", "c2pa invalid, not trusted (claimSignature.mismatch)"),
    "A.jpg": ("pixels", ""),  # no manifest (its EXIF names a camera: reported only)
}
NOT_VERIFIED = f"c2pa manifest present, not verified ({manifests.INSTALL_HINT})"


def expected_without_binding(name: str) -> tuple[str, str]:
    return ("pixels", NOT_VERIFIED if name != "A.jpg" else "")


def evaluate(detector: FakeImageDetector, data: Path, expect) -> int:
    """Print one line per file; the number of files as expected."""
    names = sorted(EXPECTED)
    out = detector.predict([data / name for name in names])
    matches = 0
    for i, name in enumerate(names):
        evidence, start = expect(name)
        text = out.provenance[i] or ""
        ok = out.evidence[i] == evidence and text.startswith(start) and \
            (start or "c2pa" not in text) and (evidence == "pixels" or out.label[i] == "fake")
        matches += ok
        print(f"  {'ok  ' if ok else 'MISS'} {name:15} {out.evidence[i]:8} {out.label[i]:5} "
              f"{out.fake_probability[i]:.3f}  {text}")
    print(f"  {matches}/{len(names)} as expected")
    return matches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/provenance"))
    parser.add_argument("--model", default="deepfake")
    args = parser.parse_args()
    detector = FakeImageDetector(args.model, device="cpu")
    print(f"with c2pa-python {manifests.load_binding().__version__}:")
    good = evaluate(detector, args.data, EXPECTED.__getitem__)
    manifests.binding = None
    print("without it (the plain install):")
    good += evaluate(detector, args.data, expected_without_binding)
    sys.exit(0 if good == 2 * len(EXPECTED) else 1)


if __name__ == "__main__":
    main()
