from digitgan.command import main

raise SystemExit(main())
