from theanogpu.cli import main

raise SystemExit(main())
