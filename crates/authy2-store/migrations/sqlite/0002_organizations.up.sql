-- Organizations and who belongs to them.
CREATE TABLE organizations (
    id         BLOB PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE memberships (
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at       TEXT NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);

CREATE INDEX memberships_user_id ON memberships (user_id);
CREATE INDEX memberships_organization_role ON memberships (organization_id, role);
