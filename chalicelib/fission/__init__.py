"""Fission tasks (任务宝): participants, honest invite counting, rewards and the leaderboard."""
