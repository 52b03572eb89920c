# Print a greeting at login.
command -v greet >/dev/null && greet "$USER"
