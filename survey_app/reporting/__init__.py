"""The reporting area: units report their self-assessed data per round and period, and sign it off."""
