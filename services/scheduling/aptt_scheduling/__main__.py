from aptt_scheduling.main import main

main()
