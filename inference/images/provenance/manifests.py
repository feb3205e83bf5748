"""C2PA manifests (Content Credentials), validated by the C2PA project's binding,
c2pa-python (the `provenance` extra). Without it, a manifest is reported as present and
not verified. The binding is told never to go on the network: remote manifests and
OCSP are not fetched, and no host is allowed."""

from __future__ import annotations

import json
import threading
from typing import IO, Any

from batch_classifier.inference.images.provenance.findings import (
    AI_SOURCE_TYPES,
    Provenance,
    Says,
    says_of_source_type,
    source_type_name,
)
from batch_classifier.inference.images.provenance.pieces import MAX_MANIFEST_BYTES, MiB

NOT_LOADED = object()
binding: Any = NOT_LOADED  # the c2pa module once a manifest needs it; None: not installed

INSTALL_HINT = "pip install 'batch-classifier[provenance]'"
OFFLINE_SETTINGS = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    "core": {"allowed_network_hosts": [],
             "max_decompressed_manifest_size_in_mb": MAX_MANIFEST_BYTES // MiB},
}
MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
              "tiff": "image/tiff", "bmff": None}  # None: the binding detects it
UNTRUSTED = "signingCredential.untrusted"
_context: Any = None
_lock = threading.Lock()


def load_binding() -> Any:
    """The c2pa module, imported on first use (a file without a manifest never loads
    it), or None where it is not installed."""
    global binding
    with _lock:
        if binding is NOT_LOADED:
            try:
                import c2pa as module
            except ImportError:  # the plain install: manifests are found, not validated
                module = None
            binding = module
        return binding


def offline_context() -> Any:
    """The binding's context with OFFLINE_SETTINGS (one per process)."""
    global _context
    with _lock:
        if _context is None:
            _context = binding.Context.from_dict(OFFLINE_SETTINGS)
        return _context


def read_manifest(stream: IO[bytes], fmt: str, size: int, provenance: Provenance) -> None:
    """Validate the manifest store embedded in `stream` (`size` bytes of it) and add
    what it says."""
    if size > MAX_MANIFEST_BYTES:
        provenance.note(f"c2pa manifest of {size / MiB:.0f} MB not read "
                        f"(limit {MAX_MANIFEST_BYTES // MiB} MiB)")
        return
    if load_binding() is None:
        provenance.note(f"c2pa manifest present, not verified ({INSTALL_HINT})")
        return
    stream.seek(0)
    try:
        with binding.Reader(MIME_TYPES[fmt], stream, None, offline_context()) as reader:
            store = json.loads(reader.json())
    except binding.C2paError as exc:
        provenance.note(_unreadable(str(exc)))
        return
    describe_store(store, provenance)


def _unreadable(message: str) -> str:
    if message.startswith("Remote"):
        return f"c2pa manifest stored remotely, not fetched (no network): {message}"
    return f"c2pa manifest unreadable: {message.splitlines()[0][:120] if message else '?'}"


def describe_store(store: dict, provenance: Provenance) -> None:
    """Add one finding for a validated manifest store (see `findings` for the rule)."""
    state = str(store.get("validation_state", "Invalid")).lower()
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures = [f.get("code", "?") for f in results.get("failure", [])]
    manifests = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest")) or {}
    actions = _actions(active)
    source_types = [a["digitalSourceType"] for a in actions
                    if isinstance(a.get("digitalSourceType"), str)]
    inherited = [t for m in manifests.values() if m is not active
                 for t in (a.get("digitalSourceType") for a in _actions(m))
                 if isinstance(t, str) and source_type_name(t) in AI_SOURCE_TYPES]
    names = ", ".join(dict.fromkeys(str(a.get("action", "?")).removeprefix("c2pa.")
                                    for a in actions[:6])) or "no actions"
    text = f"{names} by {_generator(active)}"
    if source_types:
        text += ", " + ", ".join(dict.fromkeys(source_type_name(t) for t in source_types))
    if inherited:
        text += f"; an ingredient {source_type_name(inherited[0])}"
    if state in ("valid", "trusted"):
        says = max((says_of_source_type(t) for t in source_types + inherited),
                   key=[Says.OTHER, Says.CAPTURED, Says.GENERATED].index, default=Says.OTHER)
        signer = " (untrusted signer)" if UNTRUSTED in failures else ""
        provenance.add(says, f"c2pa {state}{signer}: {text}")
    else:
        reasons = ", ".join(c for c in failures if c != UNTRUSTED) or state
        provenance.add(Says.OTHER, f"c2pa invalid, not trusted ({reasons}): {text}")


def _actions(manifest: dict) -> list[dict]:
    """The actions of a manifest's c2pa.actions assertions (v1 and v2)."""
    found = []
    for assertion in manifest.get("assertions") or []:
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            data = assertion.get("data") or {}
            found += [a for a in data.get("actions") or [] if isinstance(a, dict)]
    return found


def _generator(manifest: dict) -> str:
    """The claim generator: its first claim_generator_info entry, or claim_generator."""
    info = manifest.get("claim_generator_info") or []
    if info and isinstance(info[0], dict) and info[0].get("name"):
        return f"{info[0]['name']} {info[0].get('version', '')}".strip()[:80]
    named = str(manifest.get("claim_generator") or "").split()
    return named[0][:80] if named else "an unnamed generator"
