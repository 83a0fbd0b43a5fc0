-- The referral table of the chained setup: only users who moved have a
-- row, and it holds no password (another passdb checks those).
CREATE TABLE referrals (
  userid   VARCHAR(255) PRIMARY KEY,
  host     VARCHAR(255) NOT NULL,  -- where the mailbox is now
  port     VARCHAR(5),             -- NULL: the protocol's default
  destuser VARCHAR(255),           -- NULL: the same user name
  reason   VARCHAR(1024),          -- NULL: Dovecot's default text
  nologin  CHAR(1)                 -- 'Y': refer only; NULL: suggest mode
);
