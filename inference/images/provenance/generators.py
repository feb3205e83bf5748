"""Generator metadata: what image generators and their front-ends write about
themselves -- PNG text chunks (Stable Diffusion web UIs' `parameters`, ComfyUI's
`prompt`/`workflow`, InvokeAI's, NovelAI's `Software`), EXIF `UserComment` with the
same settings, EXIF `Software`/`ImageDescription` naming a known generator -- and the
camera an EXIF block names."""

from __future__ import annotations

import json
import re

from PIL import Image

from batch_classifier.inference.images.provenance.findings import Provenance, Says

# Generators and front-ends whose name in a Software / description field means the file
# came out of them (whole words, any case).
KNOWN_GENERATORS = re.compile(
    r"\b(Stable Diffusion|SDXL|NovelAI|Midjourney|DALL[-·‧ ]?E(?: ?[23])?|Imagen|"
    r"Adobe Firefly|ComfyUI|InvokeAI|Fooocus|AUTOMATIC1111|Leonardo\.Ai|Ideogram|"
    r"FLUX\.1|Craiyon|Bing Image Creator|Made with Google AI)\b", re.IGNORECASE)
SD_STEPS = re.compile(r"(?:^|\n|, )Steps: (\d{1,5})")
SD_MODEL = re.compile(r"(?:^|\n|, )Model: ([^,\n]{1,60})")
INVOKEAI_KEYS = ("invokeai_metadata", "invokeai_graph", "sd-metadata", "Dream")
NAMING_KEYS = ("Software", "Source", "Comment", "Description", "Title", "Author",
               "generation_data", "fooocus_scheme")
EXIF_IFD, USER_COMMENT = 0x8769, 0x9286
IMAGE_DESCRIPTION, MAKE, MODEL, SOFTWARE = 270, 271, 272, 305


def sd_settings(text: str) -> str | None:
    """'Stable Diffusion, Steps 30' (and the model) for a web UI's settings text."""
    steps = SD_STEPS.search(text)
    if not steps:
        return None
    model = SD_MODEL.search(text)
    return (f"Stable Diffusion{f' (model {model.group(1).strip()})' if model else ''}, "
            f"Steps {steps.group(1)}")


def read_png_texts(texts: list[tuple[str, str]], provenance: Provenance) -> None:
    """What the text chunks say about the generator that wrote the file."""
    for key, text in texts:
        if key == "parameters":
            found = sd_settings(text) or _json_generator(text, "prompt", "Fooocus")
            if found:
                provenance.add(Says.GENERATED, f"png parameters: {found}")
        elif key in ("prompt", "workflow") and _json_generator(text, "class_type", "ComfyUI",
                                                                "nodes"):
            provenance.add(Says.GENERATED, f"png {key}: ComfyUI")
        elif key in INVOKEAI_KEYS:
            provenance.add(Says.GENERATED, f"png {key}: InvokeAI")
        elif key in NAMING_KEYS and (name := KNOWN_GENERATORS.search(text)):
            provenance.add(Says.GENERATED, f"png {key}: {name.group(1)}")


def _json_generator(text: str, key: str, name: str, other_key: str | None = None) -> str | None:
    """`name` when `text` is a JSON object mentioning `key` (or `other_key`) anywhere."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        return None
    dumped = json.dumps(value) if isinstance(value, dict) else ""
    keys = [f'"{k}"' for k in (key, other_key) if k]
    return name if any(k in dumped for k in keys) else None


def read_exif(exif: Image.Exif, provenance: Provenance) -> None:
    """UserComment with generation settings; Software/ImageDescription naming a known
    generator; Make/Model as a camera-capture mark (reported only)."""
    comment = _user_comment(exif.get_ifd(EXIF_IFD).get(USER_COMMENT))
    if comment and (found := sd_settings(comment) or _named(comment)):
        provenance.add(Says.GENERATED, f"exif UserComment: {found}")
    for tag, label in ((SOFTWARE, "Software"), (IMAGE_DESCRIPTION, "ImageDescription")):
        text = _text(exif.get(tag))
        found = text and (sd_settings(text) or _named(text))
        if found:
            provenance.add(Says.GENERATED, f"exif {label}: {found}")
    make, model = _text(exif.get(MAKE)) or "", _text(exif.get(MODEL)) or ""
    camera = model if model.startswith(make) else f"{make} {model}".strip()
    if camera:
        provenance.add(Says.CAPTURED, f"exif camera: {camera[:60]}")


def _named(text: str) -> str | None:
    match = KNOWN_GENERATORS.search(text)
    return match.group(1) if match else None


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.strip("\0 ").strip() if isinstance(value, str) else None


def _user_comment(value: object) -> str | None:
    """EXIF UserComment: an 8-byte character code, then the text."""
    if isinstance(value, str):
        return value
    if not isinstance(value, bytes) or len(value) < 8:
        return None
    code, body = value[:8], value[8:]
    if code.startswith(b"UNICODE"):
        texts = [body.decode(e, "replace") for e in ("utf-16-be", "utf-16-le")]
        return max(texts, key=lambda t: sum(c.isascii() for c in t))
    return body.decode("utf-8", "replace")
