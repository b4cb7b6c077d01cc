"""``python -m theanogpu``: the command line (theanogpu.cli)."""

try:
    from theanogpu.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command line itself loads
    raise SystemExit(130) from None

raise SystemExit(main())
