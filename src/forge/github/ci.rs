//! PLACEHOLDER — being written (issue 7 helper "prs"). CI status of a head commit.
