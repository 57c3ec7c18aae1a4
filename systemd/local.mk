# systemd: filled in by its owner
