"""Tools for developing StudyBuddy without Discord: the fake Discord that the tests and `studybuddy playground` use."""
