from zooprof.cli import main

main()
