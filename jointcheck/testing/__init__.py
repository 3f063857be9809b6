"""Tooling for tests, benchmarks and the demo: the loopback Bot API emulator, the bot harness and
the demo's chat script. Nothing here serves users; the bot never imports it."""
