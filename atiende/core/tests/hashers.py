"""A cheap PBKDF2 for the suite: same algorithm name, one iteration.

Hashes carry their iteration count, so the real hasher in a child server process still verifies
passwords the suite set; only the suite's own hashing gets faster.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class OneIterationPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1
