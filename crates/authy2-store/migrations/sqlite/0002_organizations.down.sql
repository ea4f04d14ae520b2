DROP TABLE memberships;
DROP TABLE organizations;
