-- The users table of the SQL examples (SQLite and PostgreSQL alike).
-- The referral columns stay NULL for users who live on this server.
CREATE TABLE users (
  userid   VARCHAR(255) PRIMARY KEY,
  password VARCHAR(255) NOT NULL,
  host     VARCHAR(255),   -- where the mailbox is now: DNS name or IP
  port     VARCHAR(5),     -- its IMAP port, when not 143
  destuser VARCHAR(255),   -- user name there, when it differs
  reason   VARCHAR(1024),  -- text shown to the user
  nologin  CHAR(1),        -- 'Y': refer only; NULL: log in here too
  proxy    CHAR(1),        -- 'Y': proxy to host instead of referring
  referral VARCHAR(16)     -- 'suggest' with proxy: proxy, and tell the
                           -- client to go to host itself next time
);
