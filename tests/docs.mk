# docs drift check: owned by the man page work
