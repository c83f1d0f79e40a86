from aura_dev.cli import main

main()
