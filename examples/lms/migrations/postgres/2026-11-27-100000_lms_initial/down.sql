DROP TABLE lms_settings;
DROP TABLE enrollments;
DROP TABLE courses;
DROP TABLE users;
