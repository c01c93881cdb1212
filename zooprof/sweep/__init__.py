"""Lab assignments: `zooprof sweep` over a declared matrix (matrix), run cell by cell with resume
and power modes (run, powermodes), on a pool of boards (pool), and graded (grading)."""
