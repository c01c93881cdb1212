"""Zoo manifests (one TOML file per entry), installed as the package data zooprof.zoo."""
