from inftool.cli import main

main()
