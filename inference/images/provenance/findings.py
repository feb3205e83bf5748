"""What provenance reading found in one file, and what it counts for.

The rule (README, "Provenance"): a mark that declares the image AI-generated decides
the label (fake, evidence `metadata`) -- a valid C2PA manifest declaring it, or unsigned
metadata saying so (IPTC digital source type, a generator's own text). Nobody gains by
forging such a confession, and a wrong one costs only the file that carries it. A mark
of a camera capture never decides (the label stays the pixel model's): unsigned metadata
is forged in a line, and a valid signature proves who signed, not that the signer is a
camera, unless the signer is on a trust list, which this offline tool has none of. An
invalid or tampered manifest is reported and never trusted, whatever it declares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

MAX_TEXT = 300  # characters of the provenance column

# IPTC digital source types (http://cv.iptc.org/newscodes/digitalsourcetype/...)
AI_SOURCE_TYPES = frozenset({"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"})
CAPTURE_SOURCE_TYPES = frozenset({"digitalCapture", "computationalCapture"})


class Says(Enum):
    """What a finding says about how the image was made."""

    GENERATED = "generated"  # decides: fake, evidence metadata
    CAPTURED = "captured"  # reported only
    OTHER = "other"  # reported only: an edit history, an invalid manifest, a note


@dataclass(frozen=True)
class Finding:
    """One mark read (or a note on one that could not be read), as the column shows it."""

    says: Says
    text: str


@dataclass
class Provenance:
    """All the findings of one file, in reading order."""

    findings: list[Finding] = field(default_factory=list)

    def add(self, says: Says, text: str) -> None:
        self.findings.append(Finding(says, text))

    def note(self, text: str) -> None:
        """A mark that could not be read, or was not (a limit, no network)."""
        self.add(Says.OTHER, text)

    @property
    def generated(self) -> bool:
        """True when a mark declares the image AI-generated."""
        return any(f.says is Says.GENERATED for f in self.findings)

    @property
    def text(self) -> str | None:
        """The provenance column: the findings that decide first, then the others."""
        ordered = sorted(self.findings, key=lambda f: f.says is not Says.GENERATED)
        text = "; ".join(dict.fromkeys(f.text for f in ordered))
        return (text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 3] + "...") or None


def source_type_name(uri: str) -> str:
    """The IPTC code of a digital source type URI (its last path segment)."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def says_of_source_type(uri: str) -> Says:
    """What a digital source type declares."""
    name = source_type_name(uri)
    if name in AI_SOURCE_TYPES:
        return Says.GENERATED
    return Says.CAPTURED if name in CAPTURE_SOURCE_TYPES else Says.OTHER


def decide(pixel_label: str | None, provenance: Provenance | None,
           fake_label: str) -> tuple[str | None, str | None]:
    """(label, evidence) of one file: `fake_label` by `metadata` when a mark declares it
    generated, else the pixel model's label by `pixels`; (None, None) for a file the
    pixel model could not classify (it has an error)."""
    if pixel_label is None:
        return None, None
    if provenance is not None and provenance.generated:
        return fake_label, "metadata"
    return pixel_label, "pixels"
