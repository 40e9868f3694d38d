-- The example LMS's own tables (PostgreSQL). attend never writes these; it reads `users` (and
-- `enrollments` for group membership) through its host-users-table directory.

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'instructor', 'student'))
);
-- attend matches participants by email case-insensitively: `lower(email) = lower(?)`.
CREATE INDEX users_email_lower_idx ON users (lower(email));

CREATE TABLE courses (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    instructor_id TEXT NOT NULL REFERENCES users (id)
);
CREATE INDEX courses_instructor_idx ON courses (instructor_id);

-- A course is attend's *group*: its key is the course id.
CREATE TABLE enrollments (
    course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (course_id, user_id)
);
CREATE INDEX enrollments_user_idx ON enrollments (user_id);

-- Small key/value settings of the example itself (demo-mode secrets, demo data markers).
CREATE TABLE lms_settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
