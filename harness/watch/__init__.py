"""`harness watch`: the seed's first hour at the desk, as rounds of the monitoring checks."""
