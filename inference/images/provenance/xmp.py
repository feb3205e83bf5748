"""XMP: the IPTC digital source type, and the link to a manifest stored remotely. Read
with two patterns over a packet of at most MAX_XMP_BYTES (no XML parser: an XMP packet
may be hostile, and these two values are all that is read)."""

from __future__ import annotations

import re

from batch_classifier.inference.images.provenance.findings import (
    Provenance,
    says_of_source_type,
    source_type_name,
)

# Iptc4xmpExt:DigitalSourceType as an attribute, an element, or an rdf:resource
SOURCE_TYPE = re.compile(
    rb"DigitalSourceType(?:\s*=\s*[\"']|>\s*|[^>]{0,200}?rdf:resource\s*=\s*[\"'])"
    rb"\s*([^\"'<>\s]{1,300})")
# dcterms:provenance: where a C2PA manifest stored outside the file is (C2PA 1.x, 2.x)
REMOTE_MANIFEST = re.compile(
    rb"dcterms:provenance(?:\s*=\s*[\"']|>\s*)\s*([^\"'<>\s]{1,2000})")


def read_xmp(packet: bytes, provenance: Provenance) -> str | None:
    """Add the digital source type the packet declares; return the remote manifest URL
    it names, if any."""
    for match in SOURCE_TYPE.finditer(packet):
        uri = match.group(1).decode("utf-8", "replace")
        provenance.add(says_of_source_type(uri),
                       f"xmp DigitalSourceType: {source_type_name(uri)}")
    remote = REMOTE_MANIFEST.search(packet)
    return remote.group(1).decode("utf-8", "replace") if remote else None
