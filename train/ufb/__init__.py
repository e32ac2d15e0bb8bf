"""UltraFastBERT training and export (PyTorch side of ultrafastbert-edge)."""
