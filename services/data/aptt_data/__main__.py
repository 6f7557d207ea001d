from aptt_data.main import main

main()
