"""What an image file says about its own origin, read before its pixels: C2PA manifests
(Content Credentials), the IPTC digital source type in XMP, and generator metadata (PNG
text chunks, EXIF). `read_provenance` reads a file; `Provenance.generated` says whether
it declares itself AI-generated (see `findings` for what each mark counts for)."""
