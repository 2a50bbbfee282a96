"""Pure rules of the ETC and ETCマイレージ domain: no Qt, no SQL, no files."""
