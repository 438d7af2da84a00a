from shsync.cli import main

main()
