"""llmvm: a language model as the CPU of a stored-instruction computer.

The LLM computes, a Python dict is the memory, and a finite-state harness of regular
expressions moves strings between them (Schuurmans 2023). See README.md.
"""

__version__ = "0.1.0"
