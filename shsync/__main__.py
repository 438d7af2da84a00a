from shsync.entry import main

main()
