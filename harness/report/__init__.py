"""What a person opens after a run: the HTML report, the transition log, the paper-account picture, the board
card. Built from recorded evidence only (harness.evidence.runs); never decides a verdict."""
