from aptt_goals.main import main

main()
