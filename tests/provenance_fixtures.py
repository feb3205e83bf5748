"""Image files that say where they came from, made here: C2PA manifests signed with a
certificate chain made for the test (the binding's Builder), IPTC digital source types
in XMP, generator text chunks and EXIF; and the same pixels with no marks."""

from __future__ import annotations

import datetime
import functools
import io
import json
from collections.abc import Callable
from pathlib import Path

import c2pa
import numpy as np
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image, PngImagePlugin, TiffImagePlugin

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
SD_PARAMETERS = ("a portrait of a woman\nNegative prompt: blurry\nSteps: 30, Sampler: "
                 "Euler a, CFG scale: 7, Seed: 1234, Size: 512x512, Model: v1-5-pruned")
COMFY_PROMPT = json.dumps({"3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20}}})
COMFY_WORKFLOW = json.dumps({"last_node_id": 9, "nodes": [{"id": 3, "type": "KSampler"}]})
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "TIFF": "image/tiff",
        "AVIF": "image/avif"}
NO_THUMBNAILS = {"builder": {"thumbnail": {"enabled": False}}}


def dark_pixels(seed: int, size: int = 40) -> np.ndarray:
    """A dark image: the brightness test model calls it real."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 60, (size, size, 3), dtype=np.uint8)


def encoded(pixels: np.ndarray, fmt: str, **options) -> bytes:
    """The pixels as a file of `fmt` (lossless WebP, so the pixels survive)."""
    out = io.BytesIO()
    extra = {"lossless": True} if fmt == "WEBP" else {"quality": 90} if fmt == "JPEG" else {}
    Image.fromarray(pixels).save(out, fmt, **extra, **options)
    return out.getvalue()


def xmp_packet(source_type: str) -> bytes:
    return (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
            f'02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:Iptc4xmpExt='
            f'"http://iptc.org/std/Iptc4xmpExt/2008-02-29/"><Iptc4xmpExt:DigitalSourceType>'
            f'{IPTC}{source_type}</Iptc4xmpExt:DigitalSourceType></rdf:Description>'
            f'</rdf:RDF></x:xmpmeta>').encode()


def png_with_texts(pixels: np.ndarray, texts: dict[str, str], xmp: bytes | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, text in texts.items():
        info.add_text(key, text)
    if xmp is not None:
        info.add_itxt("XML:com.adobe.xmp", xmp.decode())
    return encoded(pixels, "PNG", pnginfo=info)


def tiff_with_xmp(pixels: np.ndarray, xmp: bytes) -> bytes:
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[700], tags.tagtype[700] = xmp, 1  # BYTE
    return encoded(pixels, "TIFF", tiffinfo=tags)


def exif_user_comment(pixels: np.ndarray, comment: str) -> bytes:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + comment.encode("utf-16-be")
    return encoded(pixels, "JPEG", exif=exif)


@functools.lru_cache(maxsize=1)
def signing_chain() -> tuple[bytes, bytes]:
    """(certificate chain PEM: signer then CA, private key PEM), made for the tests."""
    now = datetime.datetime.now(datetime.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "batch-classifier tests")])

    def certificate(subject: str, key, issuer: x509.Name, issuer_key, ca: bool):
        usage = dict.fromkeys(("content_commitment", "key_encipherment", "data_encipherment",
                               "key_agreement", "encipher_only", "decipher_only"), False)
        builder = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(issuer)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=not ca, key_cert_sign=ca,
                                                crl_sign=ca, **usage), critical=True))
        if ca:
            builder = builder.add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        else:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            ).add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer_key.public_key()), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("Test CA", ca_key, name("Test CA"), ca_key, ca=True)
    leaf = certificate("Test Signer", key, ca.subject, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    return (leaf.public_bytes(pem) + ca.public_bytes(pem),
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


AI_CREATED = (("c2pa.created", "trainedAlgorithmicMedia"),)


def signed(asset: bytes, fmt: str,
           actions: tuple[tuple[str, str | None], ...] = AI_CREATED,
           remote_url: str | None = None, parent: bytes | None = None) -> bytes:
    """`asset` with a C2PA manifest of `actions` ((action, digital source type or None),
    the first one created, or opened: the `parent` file, an ingredient) signed by the
    test chain; with `remote_url`, the manifest is not embedded, only a link to it."""
    chain, key = signing_chain()
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, key,
                                                       None))
    listed = [{"action": action, **({"digitalSourceType": IPTC + source} if source else {}),
               **({"parameters": {"ingredientIds": ["parent"]}} if action == "c2pa.opened"
                  else {})}
              for action, source in actions]
    manifest = {"claim_generator_info": [{"name": "Test Generator", "version": "1.0"}],
                "assertions": [{"label": "c2pa.actions", "data": {"actions": listed}}]}
    out = io.BytesIO()
    with c2pa.Context.from_dict(NO_THUMBNAILS) as context, \
            c2pa.Builder(manifest, context) as builder:
        if parent is not None:
            builder.add_ingredient({"title": "parent", "relationship": "parentOf",
                                    "label": "parent"}, MIME[fmt], io.BytesIO(parent))
        if remote_url:
            builder.set_no_embed()
            builder.set_remote_url(remote_url)
        builder.sign(signer, MIME[fmt], io.BytesIO(asset), out)
    return out.getvalue()


# name -> (what it is, made from pixels: (marked file, the same pixels unmarked), suffix)
MARKED: dict[str, tuple[Callable[[np.ndarray], tuple[bytes, bytes]], str]] = {
    "c2pa-jpeg": (lambda p: (signed(encoded(p, "JPEG"), "JPEG"), encoded(p, "JPEG")), ".jpg"),
    "c2pa-png": (lambda p: (signed(encoded(p, "PNG"), "PNG"), encoded(p, "PNG")), ".png"),
    "c2pa-webp": (lambda p: (signed(encoded(p, "WEBP"), "WEBP"), encoded(p, "WEBP")), ".webp"),
    "c2pa-tiff": (lambda p: (signed(encoded(p, "TIFF"), "TIFF"), encoded(p, "TIFF")), ".tif"),
    "c2pa-avif": (lambda p: (signed(encoded(p, "AVIF"), "AVIF"), encoded(p, "AVIF")), ".avif"),
    "xmp-jpeg": (lambda p: (encoded(p, "JPEG", xmp=xmp_packet("trainedAlgorithmicMedia")),
                            encoded(p, "JPEG")), ".jpg"),
    "xmp-png": (lambda p: (png_with_texts(p, {}, xmp_packet("trainedAlgorithmicMedia")),
                           encoded(p, "PNG")), ".png"),
    "xmp-webp": (lambda p: (encoded(p, "WEBP", xmp=xmp_packet("trainedAlgorithmicMedia")),
                            encoded(p, "WEBP")), ".webp"),
    "xmp-tiff": (lambda p: (tiff_with_xmp(p, xmp_packet("trainedAlgorithmicMedia")),
                            encoded(p, "TIFF")), ".tif"),
    "sd-parameters": (lambda p: (png_with_texts(p, {"parameters": SD_PARAMETERS}),
                                 encoded(p, "PNG")), ".png"),
    "comfyui": (lambda p: (png_with_texts(p, {"prompt": COMFY_PROMPT,
                                              "workflow": COMFY_WORKFLOW}),
                           encoded(p, "PNG")), ".png"),
    "exif-usercomment": (lambda p: (exif_user_comment(p, SD_PARAMETERS), encoded(p, "JPEG")),
                         ".jpg"),
}


def write_marked(folder: Path) -> dict[str, tuple[Path, Path]]:
    """Each kind of MARKED as a file, and its pixels unmarked beside it:
    {kind: (marked path, stripped path)}."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for seed, (kind, (make, suffix)) in enumerate(MARKED.items()):
        marked, stripped = make(dark_pixels(seed))
        paths = folder / f"{kind}{suffix}", folder / f"{kind}-stripped{suffix}"
        paths[0].write_bytes(marked)
        paths[1].write_bytes(stripped)
        written[kind] = paths
    return written
