"""Real engines the wrapper tests start on 127.0.0.1 (SLURM with sshd, Airflow's api-server, ...)."""
