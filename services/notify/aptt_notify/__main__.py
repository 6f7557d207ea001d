from aptt_notify.main import main

main()
