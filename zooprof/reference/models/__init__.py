"""Model definitions zooprof ships (networks that are not in torchvision)."""
