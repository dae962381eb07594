# Prints the right answer but crashes: a runtime error, not a pass.
# style: stdio
# expect: error
print(4)
raise RuntimeError("late crash")
