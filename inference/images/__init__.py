"""Real vs AI-generated images: decoding, the inference core and classify-images."""
