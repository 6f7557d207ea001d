from aptt_web.main import main

main()
