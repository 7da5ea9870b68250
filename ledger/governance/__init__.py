"""The collective decides its rules: proposals, comments, consent and votes, colleges, the decision register."""
