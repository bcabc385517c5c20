from baton_operator.main import main

raise SystemExit(main())
