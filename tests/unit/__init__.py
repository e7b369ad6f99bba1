"""Unit tests: pure logic, data files and repositories, plus the fake Bot API itself."""
